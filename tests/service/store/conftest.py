"""The store's tests: an EventStore per test on a fresh table of DynamoDB Local."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from service.cursor import CursorCodec
from service.models import EventCreate
from service.store import EventRecord, EventStore, to_item
from tests.conftest import make_table, new_event
from tools.table_admin import TableAdmin

STATUSES = ("active", "cancelled", "completed")


@pytest.fixture
def make_store(dynamodb: Any) -> Iterator[Callable[..., EventStore]]:
    tables: list[str] = []

    def build(shards: int = 4, table: str | None = None) -> EventStore:
        if table is None:
            table = make_table(dynamodb)
            tables.append(table)
        return EventStore(dynamodb, table, CursorCodec("store-test-secret-0123"), shards)

    yield build
    for table in tables:
        dynamodb.delete_table(TableName=table)


def bulk_load(store: EventStore, dynamodb: Any, count: int, seed: int = 3) -> list[dict[str, Any]]:
    """Write many events quickly with BatchWriteItem, as the store would have stored them."""
    rng = random.Random(seed)
    events = []
    for number in range(count):
        fields = EventCreate.model_validate(
            new_event(
                eventId=f"bulk{number:06d}",
                date=f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                status=rng.choice(STATUSES),
            )
        ).model_dump(by_alias=True, mode="json")
        events.append(
            fields
            | {
                "createdAt": "2026-01-01T00:00:00.000Z",
                "updatedAt": "2026-01-01T00:00:00.000Z",
                "version": 1,
            }
        )
    admin = TableAdmin(dynamodb, store._table, store._shards)
    admin.put_items([to_item(event, store._shards) for event in events])
    return events


def walk(store: EventStore, status: str, limit: int, **dates: str) -> list[list[EventRecord]]:
    """Every page of one listing, following the cursors to the end."""
    pages, cursor = [], None
    while True:
        page = store.list_events(status=status, limit=limit, cursor=cursor, **dates)
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return pages


def sort_key(event: EventRecord) -> tuple[str, str]:
    return event["date"], event["eventId"]
