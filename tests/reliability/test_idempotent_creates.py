"""Idempotency-Key under a real race: fifty identical creates at once, over real HTTP."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from service.api.idempotency import IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER
from tests.conftest import new_event, table_snapshot
from tests.reliability.live import LiveServer

TWINS = 50


def _created(answer: httpx.Response) -> tuple[int, str, str, bytes]:
    return answer.status_code, answer.headers["location"], answer.headers["etag"], answer.content


def test_fifty_concurrent_twins_make_one_event_and_every_answer_is_the_first_or_409(
    live: LiveServer, dynamodb: Any, live_table: str
) -> None:
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
    assert all(answer.headers["retry-after"] for answer in answers if answer.status_code == 409)
    stored = [item for item in table_snapshot(dynamodb, live_table) if item["title"]["S"] == title]
    assert [item["eventId"]["S"] for item in stored] == [originals[0].json()["eventId"]]
    assert live.unhandled_errors() == []
