"""Idempotency-Key over real HTTP: an answer lost with its connection, and fifty identical
creates at once."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from local.dynamodb_local import DynamoDBLocal
from service.api.idempotency import IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER
from tests.conftest import new_event, settings_values, table_snapshot
from tests.reliability.live import LiveServer, live_server

TWINS = 50


@pytest.fixture(scope="module")
def patient(
    dynamodb_local: DynamoDBLocal, live_table: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The API with a long DynamoDB read timeout. DynamoDB Local runs transactions one at a
    time: fifty of them on a busy 2-core machine queue for over 3 s, the default timeout,
    and the 503 that follows is the overload answer, not what these tests look at."""
    log = tmp_path_factory.mktemp("patient") / "server.log"
    settings = settings_values(dynamodb_local, live_table, EVENTS_DYNAMODB_READ_TIMEOUT=30)
    with live_server(settings, log) as server:
        yield server


def _created(answer: httpx.Response) -> tuple[int, str, str, bytes]:
    return answer.status_code, answer.headers["location"], answer.headers["etag"], answer.content


def test_fifty_concurrent_twins_make_one_event_and_every_answer_is_the_first_or_409(
    patient: LiveServer, dynamodb: Any, live_table: str
) -> None:
    live = patient
    title = f"Race {uuid.uuid4().hex[:12]}"
    body = new_event(eventId=..., title=title)  # the server names the event
    headers = {IDEMPOTENCY_KEY_HEADER: f"twins-{uuid.uuid4()}"}
    limits = httpx.Limits(max_connections=TWINS)
    with (
        httpx.Client(base_url=live.url, timeout=30, limits=limits) as http,
        ThreadPoolExecutor(max_workers=TWINS) as pool,
    ):
        answers = list(
            pool.map(lambda _: http.post("/events", json=body, headers=headers), range(TWINS))
        )

    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {201, 409}, statuses
    created = [answer for answer in answers if answer.status_code == 201]
    originals = [answer for answer in created if REPLAYED_HEADER.lower() not in answer.headers]
    assert len(originals) == 1
    replays = [answer for answer in created if answer is not originals[0]]
    assert all(answer.headers[REPLAYED_HEADER] == "true" for answer in replays)
    assert {_created(answer) for answer in created} == {_created(originals[0])}
    # Locally the losers always get the replay (DynamoDB Local runs transactions one at a
    # time); AWS's 409 with Retry-After is tests/service/api/test_idempotency.py's.
    stored = [item for item in table_snapshot(dynamodb, live_table) if item["title"]["S"] == title]
    assert [item["eventId"]["S"] for item in stored] == [originals[0].json()["eventId"]]
    assert live.unhandled_errors() == []


def test_a_create_whose_connection_dropped_is_retried_into_one_event(
    live: LiveServer, dynamodb: Any, live_table: str
) -> None:
    # The client sends the whole request and hangs up without reading: the answer is lost
    # for real, and the server may or may not have stored the event when the retry comes.
    title = f"Dropped {uuid.uuid4().hex[:12]}"
    body = json.dumps(new_event(eventId=..., title=title)).encode()
    key = f"dropped-{uuid.uuid4()}"
    host, port = urlsplit(live.url).hostname, urlsplit(live.url).port
    request = (
        f"POST /events HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"{IDEMPOTENCY_KEY_HEADER}: {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, port)) as connection:
        connection.sendall(request + body)
    # The server goes on with the request whose client left: wait until it has stored
    # the event, so the retry is the replay this test is about.
    deadline = time.monotonic() + 30
    while not any(item["title"]["S"] == title for item in table_snapshot(dynamodb, live_table)):
        assert time.monotonic() < deadline, "the dropped request stored nothing"
        time.sleep(0.05)

    retry = httpx.post(
        f"{live.url}/events",
        content=body,
        headers={IDEMPOTENCY_KEY_HEADER: key, "Content-Type": "application/json"},
        timeout=30,
    )

    assert retry.status_code == 201
    stored = [item for item in table_snapshot(dynamodb, live_table) if item["title"]["S"] == title]
    assert [item["eventId"]["S"] for item in stored] == [retry.json()["eventId"]]
    assert retry.headers[REPLAYED_HEADER] == "true"  # the first was stored, unanswered
    assert live.unhandled_errors() == []
