"""`Idempotency-Key` on POST /events, against DynamoDB Local: through the app, through
Lambda events (the caller's API key scopes the keys), and over real HTTP under a race."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from local.dynamodb_local import DynamoDBLocal
from local.lambda_events import SHAPES, LambdaClient
from service.api.idempotency import IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER
from service.app import create_app
from service.errors import (
    EventAlreadyExists,
    EventsError,
    IdempotentRequestInFlight,
    StoreFailure,
    StoreUnavailable,
)
from service.handler import build_handler
from service.settings import Settings
from service.table import KEY_EXPIRY_ATTRIBUTE, keys_table_name
from tests.conftest import make_settings, new_event, table_snapshot, temporary_keys_table
from tests.service.api.test_events import PUBLISHED_FIELDS
from tests.service.store.test_errors import dynamodb_answers

PROBLEM = "application/problem+json"
IN_FLIGHT = "A request with Idempotency-Key 'k' is being processed; retry shortly for its answer."


@pytest.fixture
def keys_table(dynamodb: Any, table_name: str) -> Iterator[str]:
    with temporary_keys_table(dynamodb, keys_table_name(table_name)) as name:
        yield name


def records(dynamodb: Any, keys_table: str) -> list[dict[str, Any]]:
    return dynamodb.scan(TableName=keys_table, ConsistentRead=True)["Items"]  # type: ignore[no-any-return]


def keyed(key: str) -> dict[str, str]:
    return {IDEMPOTENCY_KEY_HEADER: key}


def created_fields(response: Any) -> tuple[int, str, str, bytes]:
    return (
        response.status_code,
        response.headers["location"],
        response.headers["etag"],
        response.content,
    )


@pytest.mark.usefixtures("keys_table")
def test_a_retry_after_a_lost_answer_gets_the_first_answer_and_one_event(
    client: TestClient, dynamodb: Any, table_name: str
) -> None:
    body = new_event(eventId=...)  # the server names the event: the case keys exist for
    key = str(uuid.uuid4())
    first = client.post("/events", json=body, headers=keyed(key))  # its answer "lost"
    retry = client.post("/events", json=body, headers=keyed(key))

    assert first.status_code == 201
    assert REPLAYED_HEADER.lower() not in first.headers
    assert created_fields(retry) == created_fields(first)
    assert retry.headers[REPLAYED_HEADER] == "true"
    assert [item["eventId"]["S"] for item in table_snapshot(dynamodb, table_name)] == [
        first.json()["eventId"]
    ]


@pytest.mark.usefixtures("keys_table")
def test_the_replay_is_the_first_answer_even_after_the_event_changed_or_went(
    client: TestClient,
) -> None:
    body, key = new_event(), keyed("change-then-retry")
    first = client.post("/events", json=body, headers=key)
    client.patch(first.headers["location"], json={"capacity": 7})
    after_change = client.post("/events", json=body, headers=key)
    client.delete(first.headers["location"])
    after_delete = client.post("/events", json=body, headers=key)

    assert created_fields(after_change) == created_fields(first)
    assert created_fields(after_delete) == created_fields(first)
    assert client.get(first.headers["location"]).status_code == 404


@pytest.mark.usefixtures("keys_table")
def test_a_refused_create_leaves_its_key_unused(client: TestClient) -> None:
    body, key = new_event(), keyed("refused-first")
    invalid = client.post("/events", json={**body, "capacity": 0}, headers=key)
    valid = client.post("/events", json=body, headers=key)

    assert invalid.status_code == 422
    assert valid.status_code == 201
    assert REPLAYED_HEADER.lower() not in valid.headers


def test_the_same_key_with_another_body_is_422_and_writes_nothing(
    client: TestClient, dynamodb: Any, table_name: str, keys_table: str
) -> None:
    body = new_event(eventId=...)
    assert client.post("/events", json=body, headers=keyed("k-1")).status_code == 201
    before = table_snapshot(dynamodb, table_name), records(dynamodb, keys_table)

    other = client.post("/events", json={**body, "capacity": 3}, headers=keyed("k-1"))

    assert other.status_code == 422
    assert other.headers["content-type"] == PROBLEM
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert other.json()["detail"] == (
        "Idempotency-Key 'k-1' was used for a request with another body; "
        "send a new key for a new request."
    )
    assert (table_snapshot(dynamodb, table_name), records(dynamodb, keys_table)) == before


@pytest.mark.usefixtures("keys_table")
def test_bodies_that_mean_the_same_event_are_the_same_request(client: TestClient) -> None:
    body = new_event()
    first = client.post("/events", json=body, headers=keyed("same-meaning"))
    reordered = json.dumps(dict(reversed(body.items())), indent=2).encode()
    retry = client.post("/events", content=reordered, headers=keyed("same-meaning"))

    assert created_fields(retry) == created_fields(first)


def test_every_record_expires_and_an_expired_key_creates_anew(
    app: FastAPI, client: TestClient, dynamodb: Any, table_name: str, keys_table: str
) -> None:
    ttl = Settings().idempotency_key_ttl
    body = new_event(eventId=...)
    started = int(time.time())
    first = client.post("/events", json=body, headers=keyed("expiring")).json()
    for n in range(3):
        client.post("/events", json=new_event(), headers=keyed(f"other-{n}"))
    ended = int(time.time())
    stored = records(dynamodb, keys_table)
    assert len(stored) == 4
    for record in stored:
        assert started + ttl <= int(record[KEY_EXPIRY_ATTRIBUTE]["N"]) <= ended + ttl
    ttl_status = dynamodb.describe_time_to_live(TableName=keys_table)["TimeToLiveDescription"]
    assert ttl_status["AttributeName"] == KEY_EXPIRY_ATTRIBUTE

    # DynamoDB Local never expires items, and AWS deletes them only eventually: the
    # service itself must treat a key past its time as unknown.
    store = app.state.store.keyed_creates
    store.clock = lambda: ended + ttl + 1
    again = client.post("/events", json=body, headers=keyed("expiring"))
    replayed = client.post("/events", json=body, headers=keyed("expiring"))

    assert again.status_code == 201
    assert REPLAYED_HEADER.lower() not in again.headers
    assert again.json()["eventId"] != first["eventId"]
    assert replayed.headers[REPLAYED_HEADER] == "true"
    assert replayed.json() == again.json()
    ids = {item["eventId"]["S"] for item in table_snapshot(dynamodb, table_name)}
    assert {first["eventId"], again.json()["eventId"]} <= ids


@pytest.mark.usefixtures("keys_table")
def test_an_existing_event_id_is_409_and_the_key_stays_unused(client: TestClient) -> None:
    body = new_event()
    assert client.post("/events", json=body).status_code == 201

    refused = client.post("/events", json=body, headers=keyed("taken-id"))
    fresh = client.post("/events", json=new_event(), headers=keyed("taken-id"))

    assert refused.status_code == 409
    assert refused.json()["type"].endswith("event-already-exists")
    assert refused.json()["detail"] == f"An event with eventId {body['eventId']!r} already exists."
    assert fresh.status_code == 201
    assert REPLAYED_HEADER.lower() not in fresh.headers


def test_without_the_header_nothing_is_recorded(
    client: TestClient, dynamodb: Any, keys_table: str
) -> None:
    first = client.post("/events", json=new_event(eventId=...))
    second = client.post("/events", json=new_event(eventId=...))

    assert first.json()["eventId"] != second.json()["eventId"]
    assert REPLAYED_HEADER.lower() not in first.headers
    assert records(dynamodb, keys_table) == []


@pytest.mark.parametrize(
    "value",
    ["", "a" * 256, "two words", "tab\tinside", "caf\xe9", "\x7f"],
    ids=["empty", "256-long", "space", "tab", "latin-1", "delete"],
)
def test_a_key_that_is_not_1_to_255_visible_ascii_is_422_naming_the_header(
    client: TestClient, dynamodb: Any, table_name: str, value: str
) -> None:
    response = client.post(
        "/events",
        json=new_event(),
        headers=[(IDEMPOTENCY_KEY_HEADER.encode(), value.encode("latin-1"))],
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [error["field"] for error in response.json()["errors"]] == [IDEMPOTENCY_KEY_HEADER]
    assert table_snapshot(dynamodb, table_name) == []


def test_a_key_sent_twice_is_422(client: TestClient, dynamodb: Any, table_name: str) -> None:
    headers = [(b"idempotency-key", b"one"), (b"idempotency-key", b"two")]
    response = client.post("/events", json=new_event(), headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == IDEMPOTENCY_KEY_HEADER
    assert table_snapshot(dynamodb, table_name) == []


@pytest.mark.usefixtures("keys_table")
def test_the_longest_key_and_every_visible_character_are_accepted(client: TestClient) -> None:
    for key in ("k" * 255, "".join(chr(code) for code in range(0x21, 0x7F))):
        response = client.post("/events", json=new_event(), headers=keyed(key))
        assert response.status_code == 201, response.text


@pytest.mark.usefixtures("keys_table")
def test_keys_are_scoped_to_the_callers_api_key(app: FastAPI) -> None:
    lambda_client = LambdaClient(build_handler(app), SHAPES[0])  # a REST API stage

    def post(api_key_id: str, body: dict[str, Any]) -> Any:
        event = lambda_client.event("POST", "/events", json_body=body, headers=keyed("shared"))
        event["requestContext"]["identity"]["apiKeyId"] = api_key_id
        return lambda_client.send(event)

    body = new_event(eventId=...)
    alice, bob = post("alice-key-id", body), post("bob-key-id", body)
    alice_again = post("alice-key-id", body)
    bob_other = post("bob-key-id", {**body, "capacity": 9})

    assert (alice.status_code, bob.status_code) == (201, 201)
    assert alice.json()["eventId"] != bob.json()["eventId"]
    assert alice_again.json() == alice.json()
    assert alice_again.headers[REPLAYED_HEADER.lower()] == "true"
    assert bob_other.status_code == 422
    assert alice.headers["location"].startswith("/dev/events/")
    assert alice_again.headers["location"] == alice.headers["location"]


@pytest.mark.usefixtures("keys_table")
@pytest.mark.parametrize("status", [None, "active"])
def test_listings_never_show_a_key_record_and_pages_stay_full(
    client: TestClient, dynamodb: Any, table_name: str, status: str | None
) -> None:
    limit, events = 4, 11
    created = set()
    for n in range(events):
        body, key = new_event(eventId=...), keyed(f"listing-{n}")
        created.add(client.post("/events", json=body, headers=key).json()["eventId"])
        client.post("/events", json=body, headers=key)  # a replay writes nothing either
    params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
    pages = []
    while True:
        page = client.get("/events", params=params).json()
        pages.append(page["items"])
        if page["nextCursor"] is None:
            break
        params["cursor"] = page["nextCursor"]

    assert [len(page) for page in pages] == [4, 4, 3]
    listed = [event for page in pages for event in page]
    assert {event["eventId"] for event in listed} == created
    assert all(tuple(event) == PUBLISHED_FIELDS for event in listed)
    assert len(table_snapshot(dynamodb, table_name)) == events


@pytest.mark.parametrize(
    "answer",
    [
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}],
        },
        {"Error": {"Code": "TransactionInProgressException", "Message": "in progress"}},
    ],
    ids=["conflict", "own-attempt-in-progress"],
)
def test_a_transaction_in_progress_is_409_with_retry_after(answer: dict[str, Any]) -> None:
    # AWS cancels a transaction that meets another one in progress on the same item, and
    # refuses a retried token whose first attempt is still running; DynamoDB Local runs
    # transactions one at a time, so these are AWS's documented answers, built here.
    from botocore.exceptions import ClientError

    from service.store.client import TransactionCancelled, dynamodb_errors
    from service.store.idempotency import _first_answer

    # Through the store's one exception map, as the transaction's error leaves botocore.
    with pytest.raises(TransactionCancelled) as mapped, dynamodb_errors():
        raise ClientError(answer, "TransactWriteItems")  # type: ignore[arg-type]
    with pytest.raises(IdempotentRequestInFlight) as raised:
        _first_answer(mapped.value, "k", "hash", "id")
    assert raised.value.headers["Retry-After"] == "1"
    assert raised.value.detail == IN_FLIGHT


@pytest.mark.parametrize(
    ("reasons", "error", "detail"),
    [
        ([{"Code": "None"}, {"Code": "TransactionConflict"}], IdempotentRequestInFlight, IN_FLIGHT),
        ([{"Code": "TransactionConflict"}, {"Code": "None"}], IdempotentRequestInFlight, IN_FLIGHT),
        (
            [{"Code": "ConditionalCheckFailed"}, {"Code": "None"}],
            EventAlreadyExists,
            "An event with eventId 'id' already exists.",
        ),
        (
            [{"Code": "None"}, {"Code": "ThrottlingError"}],
            StoreUnavailable,
            "The event store is unavailable; retry shortly.",
        ),
        ([{"Code": "ValidationError"}, {"Code": "None"}], StoreFailure, None),
        ([{"Code": "None"}], StoreFailure, None),
    ],
    ids=["key in conflict", "event in conflict", "event exists", "throttled", "other", "shape"],
)
def test_each_cancellation_of_a_keyed_create_has_its_answer(
    reasons: list[Mapping[str, Any]],
    error: type[EventsError],
    detail: str | None,
    logged: list[logging.LogRecord],
) -> None:
    """What each of AWS's cancellation reasons means for the client; an unknown one is a
    500 whose reasons go to the log."""
    from service.store.client import TransactionCancelled
    from service.store.idempotency import _first_answer

    with pytest.raises(error) as raised:
        _first_answer(TransactionCancelled(reasons, in_progress=False), "k", "hash", "id")
    if detail is not None:
        assert raised.value.detail == detail
    if error is StoreFailure:
        codes = [reason["Code"] for reason in reasons]
        causes = [r for r in logged if r.getMessage() == "unexpected DynamoDB error"]
        assert [r.code for r in causes] == [f"TransactionCanceledException {codes}"]  # type: ignore[attr-defined]
        assert all(r.exc_info and isinstance(r.exc_info[1], TransactionCancelled) for r in causes)


def test_the_fingerprint_of_a_create_does_not_change_between_deploys() -> None:
    """A replay compares the fingerprint a record holds with the one of the retry, which a
    newer version of the service may compute: any change to how it is computed turns the
    retries of a deploy's first day into 422s. So it is pinned here, value and all, and
    it does not depend on the order the fields come in."""
    from service.store.idempotency import request_hash

    fields = {"title": "Caf\u00e9 \u2615", "capacity": 10, "date": "2026-05-14"}
    assert request_hash(fields) == request_hash(dict(reversed(fields.items())))
    assert (
        request_hash(fields)
        == hashlib.sha256(
            '{"capacity":10,"date":"2026-05-14","title":"Caf\u00e9 \u2615"}'.encode()
        ).hexdigest()
    )


@pytest.mark.usefixtures("keys_table")
def test_a_create_meeting_its_twin_in_progress_answers_409_with_retry_after(
    app: FastAPI, client: TestClient, dynamodb: Any, table_name: str
) -> None:
    """What AWS answers a transaction that meets its twin's still in progress (DynamoDB
    Local runs transactions one at a time, so it is the wire answer, given by a hook):
    through the app, the 409 a client retries after `Retry-After`."""
    reasons = [{"Code": "None"}, {"Code": "TransactionConflict"}]
    hook = dynamodb_answers("TransactionCanceledException", CancellationReasons=reasons)
    app.state.store._client.meta.events.register("before-send.dynamodb.TransactWriteItems", hook)
    before = table_snapshot(dynamodb, table_name)
    response = client.post("/events", json=new_event(), headers=keyed("k"))
    assert response.status_code == 409
    assert response.headers["retry-after"] == "1"
    assert response.json()["type"].endswith("idempotent-request-in-flight")
    assert response.json()["detail"] == IN_FLIGHT
    assert table_snapshot(dynamodb, table_name) == before


def test_browsers_may_send_the_key_and_read_the_replay_marker(
    dynamodb_local: DynamoDBLocal, table_name: str
) -> None:
    origin = "https://app.example"
    app = create_app(make_settings(dynamodb_local, table_name, EVENTS_CORS_ORIGINS=origin))
    with TestClient(app) as browser:
        preflight = browser.options(
            "/events",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, idempotency-key",
            },
        )
        answer = browser.get("/health", headers={"Origin": origin})

    assert preflight.status_code == 200
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()
    assert REPLAYED_HEADER.lower() in answer.headers["access-control-expose-headers"].lower()
