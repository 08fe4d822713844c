"""The benchmark's data: deterministic events, written to DynamoDB Local in parallel batches.

Every run starts from an empty in-memory DynamoDB Local, so nothing is cached between
runs and no figure can come from stale data.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from service.models import sample_event
from service.store import to_item
from tools.table_admin import TableAdmin

# Each thread writes chunks of this many items, in BatchWriteItem calls of 25.
CHUNK = 500
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
                **sample_event(
                    eventId=f"bench-{number:06d}",
                    title=f"Conference {number}",
                    description="Three days of " + ", ".join(rng.sample(_WORDS, 4)) + ".",
                    date=date.isoformat(),
                    location=rng.choice(_CITIES),
                    capacity=rng.randrange(10, 5000),
                    status=rng.choices(statuses, weights)[0],
                ),
                "createdAt": created,
                "updatedAt": created,
                "version": 1,
            }
        )
    return events


def load_events(
    client: Any, table_name: str, events: Sequence[dict[str, Any]], status_shards: int
) -> None:
    """Write the events with the index keys of `status_shards`, from several threads at once."""
    items = [to_item(event, status_shards) for event in events]
    admin = TableAdmin(client, table_name, status_shards)
    chunks = [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]
    with ThreadPoolExecutor(max_workers=LOAD_THREADS) as pool:
        for _ in pool.map(admin.put_items, chunks):
            pass
