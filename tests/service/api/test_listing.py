"""GET /events: filters, pages, cursors and what a page costs."""

from __future__ import annotations

import random
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.settings import Settings
from service.store import EventStore
from tests.conftest import store_event
from tests.service.api.test_events import assert_problem

STATUSES = ("active", "cancelled", "completed")


def seed(store: EventStore, count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    events = []
    for number in range(count):
        event = store_event(
            store,
            eventId=f"e{number:05d}",
            date=f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            status=rng.choice(STATUSES),
        )
        events.append(event)
    return events


def walk(client: TestClient, query: str) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        response = client.get(f"/events?{query}{suffix}")
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["nextCursor"]
        if cursor is None:
            return pages


@pytest.fixture
def store(app: Any) -> EventStore:
    return app.state.store  # type: ignore[no-any-return]


@pytest.mark.parametrize("limit", [1, 7, 50, 100])
def test_walking_every_event_returns_each_once(
    client: TestClient, store: EventStore, limit: int
) -> None:
    events = seed(store, 60)
    pages = walk(client, f"limit={limit}")
    listed = [event["eventId"] for page in pages for event in page]
    assert sorted(listed) == sorted(event["eventId"] for event in events)
    assert all(0 < len(page) <= limit for page in pages)


@pytest.mark.parametrize("limit", [1, 5, 50])
def test_walking_one_status_returns_each_once_in_date_order(
    client: TestClient, store: EventStore, limit: int
) -> None:
    events = seed(store, 60)
    for status in STATUSES:
        listed = [
            event for page in walk(client, f"status={status}&limit={limit}") for event in page
        ]
        expected = sorted(
            (event for event in events if event["status"] == status),
            key=lambda event: (event["date"], event["eventId"]),
        )
        assert listed == expected


def test_date_range_is_inclusive(client: TestClient, store: EventStore) -> None:
    for number, date in enumerate(
        ["2026-01-31", "2026-02-01", "2026-02-15", "2026-02-28", "2026-03-01"]
    ):
        store_event(store, eventId=f"d{number}", date=date)
    listed = client.get("/events?status=active&from=2026-02-01&to=2026-02-28").json()["items"]
    assert [event["date"] for event in listed] == ["2026-02-01", "2026-02-15", "2026-02-28"]
    after = client.get("/events?status=active&from=2026-02-28").json()["items"]
    assert [event["date"] for event in after] == ["2026-02-28", "2026-03-01"]
    before = client.get("/events?status=active&to=2026-01-31").json()["items"]
    assert [event["date"] for event in before] == ["2026-01-31"]


def test_empty_listings(client: TestClient) -> None:
    assert client.get("/events").json() == {"items": [], "nextCursor": None}
    assert client.get("/events?status=cancelled").json() == {"items": [], "nextCursor": None}


def test_a_full_last_page_has_no_cursor(client: TestClient, store: EventStore) -> None:
    seed(store, 10)
    assert client.get("/events?limit=10").json()["nextCursor"] is None
    active = sum(1 for page in walk(client, "status=active") for _ in page)
    assert client.get(f"/events?status=active&limit={active}").json()["nextCursor"] is None


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=ten",
        "status=postponed",
        "from=2026-01-01",
        "to=2026-01-01",
        "status=active&from=2026-02-30",
        "status=active&from=2026-03-01&to=2026-02-01",
        "limit=1&limit=2",
        "status=active&status=cancelled",
        "statuz=active",
    ],
)
def test_bad_list_parameters_are_422(client: TestClient, query: str) -> None:
    problem = assert_problem(client.get(f"/events?{query}"), 422)
    assert problem["errors"]


def test_date_range_without_status_says_status_is_required(client: TestClient) -> None:
    problem = assert_problem(client.get("/events?from=2026-01-01"), 422)
    assert problem["errors"] == [
        {"field": "status", "message": "is required for date ranges (from, to)"}
    ]


def test_tampered_forged_and_foreign_cursors_are_400(client: TestClient, store: EventStore) -> None:
    seed(store, 30)
    cursor = client.get("/events?status=active&limit=2").json()["nextCursor"]
    payload, mac = cursor.split(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    for bad in [f"{flipped}.{mac}", f"{payload}.{mac[:-2]}", "eyJ2IjoxfQ.AAAAAAAAAAAAAAAAAAAAAA"]:
        assert_problem(client.get("/events", params={"status": "active", "cursor": bad}), 400)
    # A genuine cursor, but for another listing.
    assert_problem(client.get("/events", params={"status": "cancelled", "cursor": cursor}), 400)
    assert_problem(client.get("/events", params={"cursor": cursor}), 400)
    # Not even of a cursor's published form: an invalid parameter like any other.
    for malformed in [cursor[:10], "not-a-cursor", "...", "\u00e9\u00e9", "x" * 5000]:
        response = client.get("/events", params={"status": "active", "cursor": malformed})
        assert assert_problem(response, 422)["errors"][0]["field"] == "cursor"


def test_cursors_work_across_instances_sharing_the_secret(
    client: TestClient, store: EventStore, settings: Settings
) -> None:
    from service.app import create_app

    seed(store, 20)
    cursor = client.get("/events?status=active&limit=2").json()["nextCursor"]
    with TestClient(create_app(settings)) as other_instance:
        assert (
            other_instance.get(
                "/events", params={"status": "active", "cursor": cursor, "limit": 2}
            ).status_code
            == 200
        )
    other_secret = settings.model_copy(update={"cursor_secret": "another-secret-entirely"})
    with TestClient(create_app(other_secret), raise_server_exceptions=False) as stranger:
        assert_problem(stranger.get("/events", params={"status": "active", "cursor": cursor}), 400)


def test_inserts_during_a_walk_do_not_break_it(client: TestClient, store: EventStore) -> None:
    events = seed(store, 40)
    before = {event["eventId"] for event in events if event["status"] == "active"}
    seen: list[str] = []
    cursor = None
    for round_number in range(100):
        params: dict[str, Any] = {"status": "active", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = client.get("/events", params=params).json()
        seen.extend(event["eventId"] for event in body["items"])
        store_event(store, eventId=f"late{round_number}", date="2026-06-15")
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
