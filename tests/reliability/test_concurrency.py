"""Races through HTTP: many clients at once against uvicorn on DynamoDB Local.

Conditional writes are the only thing that decides a race, so each test checks both what
the clients were told and what the table holds afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx

from tests.conftest import new_event
from tests.reliability.live import LiveServer

CLIENTS = 50


def unique_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def _all_at_once(server: LiveServer, requests: list[dict[str, Any]]) -> list[httpx.Response]:
    """Send every request concurrently, each on its own connection."""
    limits = httpx.Limits(max_connections=len(requests))
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:
        return await asyncio.gather(*(client.request(**request) for request in requests))


def test_concurrent_creates_of_one_id_give_exactly_one_201(
    live: LiveServer, dynamodb: Any, live_table: str
) -> None:
    event_id = unique_id("race")
    bodies = [new_event(eventId=event_id, title=f"Contender {n}") for n in range(CLIENTS)]
    responses = asyncio.run(
        _all_at_once(live, [{"method": "POST", "url": "/events", "json": b} for b in bodies])
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: CLIENTS - 1}
    (winner,) = [r.json() for r in responses if r.status_code == 201]
    item = dynamodb.get_item(
        TableName=live_table, Key={"eventId": {"S": event_id}}, ConsistentRead=True
    )
    assert item["Item"]["title"]["S"] == winner["title"]
    assert item["Item"]["version"]["N"] == "1"


async def _update_until_done(
    client: httpx.AsyncClient, path: str, worker: int, tries: int
) -> list[dict[str, Any]]:
    """Read, then update with If-Match the version read; again on 412. The updates that won."""
    won = []
    for attempt in range(tries):
        current = await client.get(path)
        assert current.status_code == 200
        response = await client.patch(
            path,
            json={"title": f"worker {worker} try {attempt}"},
            headers={"If-Match": current.headers["etag"]},
        )
        assert response.status_code in {200, 412}, response.text
        if response.status_code == 200:
            won.append({**response.json(), "read": current.json()["version"]})
    return won


def test_concurrent_if_match_updates_win_once_per_version(live: LiveServer) -> None:
    event_id = unique_id("locked")
    path = f"/events/{event_id}"

    async def race() -> list[dict[str, Any]]:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(base_url=live.url, timeout=60, limits=limits) as client:
            created = await client.post("/events", json=new_event(eventId=event_id))
            assert created.status_code == 201
            results = await asyncio.gather(
                *(_update_until_done(client, path, worker, tries=3) for worker in range(CLIENTS))
            )
            return [update for updates in results for update in updates]

    wins = asyncio.run(race())
    assert wins
    versions = sorted(win["version"] for win in wins)
    # One success per version: each win moved the event from the version it read to the next.
    assert versions == list(range(2, len(wins) + 2))
    assert all(win["version"] == win["read"] + 1 for win in wins)
    final = httpx.get(f"{live.url}{path}", timeout=30).json()
    assert final["version"] == len(wins) + 1
    assert final["title"] == max(wins, key=lambda win: win["version"])["title"]


def test_concurrent_delete_and_updates_never_resurrect(
    live: LiveServer, dynamodb: Any, live_table: str
) -> None:
    event_ids = [unique_id("doomed") for _ in range(10)]
    for event_id in event_ids:
        assert (
            httpx.post(
                f"{live.url}/events", json=new_event(eventId=event_id), timeout=30
            ).status_code
            == 201
        )
    requests: list[dict[str, Any]] = []
    for event_id in event_ids:
        requests.append({"method": "DELETE", "url": f"/events/{event_id}"})
        requests += [
            {"method": method, "url": f"/events/{event_id}", "json": {"capacity": n + 1}}
            for n, method in enumerate(["PATCH", "PUT", "PATCH", "PUT"])
        ]
    responses = asyncio.run(_all_at_once(live, requests))
    for request, response in zip(requests, responses, strict=True):
        allowed = {204} if request["method"] == "DELETE" else {200, 404}
        assert response.status_code in allowed, (request, response.text)
    for event_id in event_ids:
        assert httpx.get(f"{live.url}/events/{event_id}", timeout=30).status_code == 404
        item = dynamodb.get_item(
            TableName=live_table, Key={"eventId": {"S": event_id}}, ConsistentRead=True
        )
        assert "Item" not in item
    # And once gone, later updates find nothing to revive.
    late = asyncio.run(
        _all_at_once(
            live,
            [
                {"method": "PATCH", "url": f"/events/{i}", "json": {"capacity": 9}}
                for i in event_ids
            ],
        )
    )
    assert {r.status_code for r in late} == {404}
