"""EventStore against DynamoDB Local: shards, races and what each page costs."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from service.cursor import CursorCodec
from service.errors import EventAlreadyExists, EventNotFound, StoreUnavailable, VersionMismatch
from service.models import EventCreate
from service.store import EventStore, to_item
from service.table import STATUS_INDEX
from tests.conftest import make_table, new_event, store_event

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
    for start in range(0, count, 25):
        requests = [
            {"PutRequest": {"Item": to_item(event, store._shards)}}
            for event in events[start : start + 25]
        ]
        response = dynamodb.batch_write_item(RequestItems={store._table: requests})
        while response.get("UnprocessedItems"):
            response = dynamodb.batch_write_item(RequestItems=response["UnprocessedItems"])
    return events


class CapacityMeter:
    """Counts what the store's DynamoDB calls consume, via botocore's event hooks."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, float, int]] = []
        self._lock = threading.Lock()
        self._client = client

    def __enter__(self) -> CapacityMeter:
        events = self._client.meta.events
        events.register("provide-client-params.dynamodb.*", self._ask_for_capacity)
        events.register("after-call.dynamodb.*", self._record)
        return self

    def __exit__(self, *exc_info: object) -> None:
        events = self._client.meta.events
        events.unregister("provide-client-params.dynamodb.*", self._ask_for_capacity)
        events.unregister("after-call.dynamodb.*", self._record)

    def _ask_for_capacity(self, params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _record(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        capacity = parsed.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0)
        with self._lock:
            self.calls.append((model.name, capacity, parsed.get("ScannedCount", 0)))

    @property
    def units(self) -> float:
        return sum(capacity for _, capacity, _ in self.calls)

    def operations(self) -> set[str]:
        return {name for name, _, _ in self.calls}


def test_create_get_update_delete(make_store: Callable[..., EventStore]) -> None:
    store = make_store()
    event = store_event(store, eventId="one")
    assert store.get("one") == event
    updated = store.update("one", {"title": "Renamed"}, expected_versions=[1])
    assert updated["version"] == 2
    with pytest.raises(VersionMismatch):
        store.update("one", {"title": "Stale"}, expected_versions=[1])
    with pytest.raises(EventAlreadyExists):
        store_event(store, eventId="one")
    store.delete("one", expected_versions=[2])
    with pytest.raises(EventNotFound):
        store.get("one")
    with pytest.raises(EventNotFound):
        store.delete("one")


@pytest.mark.parametrize("shards", [1, 4, 16])
@pytest.mark.parametrize("limit", [1, 9, 50])
def test_sharded_status_listing_is_complete_and_ordered(
    make_store: Callable[..., EventStore], dynamodb: Any, shards: int, limit: int
) -> None:
    store = make_store(shards)
    events = bulk_load(store, dynamodb, 150)
    for status in STATUSES:
        listed, cursor = [], None
        while True:
            page = store.list_events(status=status, limit=limit, cursor=cursor)
            assert len(page.items) <= limit
            listed.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        expected = sorted(
            (event for event in events if event["status"] == status),
            key=lambda event: (event["date"], event["eventId"]),
        )
        assert [event["eventId"] for event in listed] == [event["eventId"] for event in expected]


def test_status_listing_is_a_query_whose_cost_does_not_grow_with_the_table(
    make_store: Callable[..., EventStore], dynamodb: Any
) -> None:
    costs = {}
    for size in (300, 3000):
        store = make_store(16)
        bulk_load(store, dynamodb, size)
        with CapacityMeter(dynamodb) as meter:
            page = store.list_events(status="active", limit=50)
        assert len(page.items) == 50
        assert meter.operations() == {"Query"}
        costs[size] = meter.units
    assert costs[3000] <= costs[300]
    # The same page from a filtered Scan would cost the whole table: the meter can tell.
    with CapacityMeter(dynamodb) as meter:
        dynamodb.scan(
            TableName=store._table,
            FilterExpression="#s = :a",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":a": {"S": "active"}},
        )
    assert meter.units > 10 * costs[3000]


def test_a_page_reads_what_it_needs_from_each_shard_plus_one_look_ahead(
    make_store: Callable[..., EventStore], dynamodb: Any
) -> None:
    store = make_store(16)
    bulk_load(store, dynamodb, 2000)
    with CapacityMeter(dynamodb) as meter:
        page = store.list_events(status="active", limit=50)
    used_per_shard: dict[str, int] = {}
    for event in page.items:
        shard = to_item(event, 16)["statusShard"]["S"]
        used_per_shard[shard] = used_per_shard.get(shard, 0) + 1
    scanned = sum(count for _, _, count in meter.calls)
    # A shard is read in batches of ceil(remaining / live shards) + 1, at most
    # ceil(50 / 16) + 1 = 5 items: what a shard reads beyond what it puts on the page is
    # at most one such batch (its look-ahead), never the page size.
    batch = -(-50 // 16) + 1
    assert scanned <= sum(used_per_shard.values()) + 16 * batch
    assert scanned < 50 * 16 / 4
    # In capacity units: one 4 KB read unit (0.5 eventually consistent) per shard query
    # when the batch fits in 4 KB, which the events here always do.
    assert meter.units <= 0.5 * len(meter.calls)


def test_status_query_uses_the_index(make_store: Callable[..., EventStore], dynamodb: Any) -> None:
    store = make_store(4)
    store_event(store, eventId="x")
    seen: list[dict[str, Any]] = []
    dynamodb.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: seen.append(dict(params))
    )
    try:
        store.list_events(status="active", limit=5)
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.Query")
    assert seen
    assert all(params["IndexName"] == STATUS_INDEX for params in seen)


def test_concurrent_creates_of_one_id_give_exactly_one_winner(
    make_store: Callable[..., EventStore],
) -> None:
    store = make_store()

    def attempt(number: int) -> str:
        try:
            store_event(store, eventId="contested", title=f"writer {number}")
        except EventAlreadyExists:
            return "conflict"
        return "created"

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, range(32)))
    assert outcomes.count("created") == 1
    assert outcomes.count("conflict") == 31


def test_if_match_races_allow_one_winner_per_version(make_store: Callable[..., EventStore]) -> None:
    store = make_store()
    store_event(store, eventId="raced")
    barrier = threading.Barrier(16)

    def attempt(number: int) -> bool:
        barrier.wait()
        try:
            store.update("raced", {"capacity": number + 1}, expected_versions=[1])
        except VersionMismatch:
            return False
        return True

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(attempt, range(16)))
    assert outcomes.count(True) == 1
    assert store.get("raced")["version"] == 2


def test_unreachable_dynamodb_is_store_unavailable(dynamodb_local: Any) -> None:
    from service.settings import Settings
    from service.store import create_dynamodb_client

    settings = Settings.model_validate(
        {
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
            "EVENTS_DYNAMODB_CONNECT_TIMEOUT": 0.2,
            "EVENTS_DYNAMODB_MAX_ATTEMPTS": 1,
        }
    )
    store = EventStore.from_settings(settings, create_dynamodb_client(settings))
    with pytest.raises(StoreUnavailable):
        store.get("anything")
