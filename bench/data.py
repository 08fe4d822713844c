"""The benchmark's data: deterministic events, written to DynamoDB Local in parallel batches.

Every run starts from an empty in-memory DynamoDB Local, so nothing is cached between
runs and no figure can come from stale data.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from service.store import to_item

# BatchWriteItem takes at most 25 puts per call.
BATCH_SIZE = 25
LOAD_THREADS = 8
LISTED_STATUS = "active"
_STATUS_WEIGHTS = {"active": 6, "cancelled": 2, "completed": 2}
_FIRST_DATE = dt.date(2026, 1, 1)
_CITIES = ["Pittsburgh, PA", "Lisbon", "Nairobi", "Osaka", "Montevideo", "Tallinn"]
_WORDS = ["talks", "sprints", "workshops", "posters", "keynotes", "tutorials", "lightning"]


def make_events(start: int, stop: int, seed: int = 7) -> list[dict[str, Any]]:
    """Events number `start` to `stop - 1`: the same events for the same numbers, every run."""
    events = []
    statuses = list(_STATUS_WEIGHTS)
    weights = list(_STATUS_WEIGHTS.values())
    for number in range(start, stop):
        rng = random.Random(seed * 1_000_003 + number)  # noqa: S311 - sample data
        date = _FIRST_DATE + dt.timedelta(days=rng.randrange(3 * 365))
        created = f"2025-{1 + number % 12:02d}-{1 + number % 28:02d}T09:30:00.000Z"
        events.append(
            {
                "eventId": f"bench-{number:06d}",
                "title": f"Conference {number}",
                "description": "Three days of " + ", ".join(rng.sample(_WORDS, 4)) + ".",
                "date": date.isoformat(),
                "location": rng.choice(_CITIES),
                "capacity": rng.randrange(10, 5000),
                "organizer": "Python Software Foundation",
                "status": rng.choices(statuses, weights)[0],
                "createdAt": created,
                "updatedAt": created,
                "version": 1,
            }
        )
    return events


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write_batch(client: Any, table_name: str, items: Sequence[dict[str, Any]]) -> None:
    pending: dict[str, Any] = {table_name: [{"PutRequest": {"Item": item}} for item in items]}
    while pending:
        response = client.batch_write_item(RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}


def load_events(
    client: Any, table_name: str, events: Sequence[dict[str, Any]], status_shards: int
) -> None:
    """Write the events with the index keys of `status_shards`, in parallel BatchWriteItems."""
    items = [to_item(event, status_shards) for event in events]
    with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
        for _ in pool.map(
            lambda batch: _write_batch(client, table_name, batch), _batches(items, BATCH_SIZE)
        ):
            pass
