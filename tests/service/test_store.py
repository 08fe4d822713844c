"""EventStore against DynamoDB Local: shards, races and what each page costs."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.capacity import CapacityMeter
from service.cursor import CursorCodec
from service.errors import EventAlreadyExists, EventNotFound, StoreUnavailable, VersionMismatch
from service.models import EventCreate
from service.store import EventRecord, EventStore, to_item
from service.table import DATE_KEY_ATTRIBUTE, STATUS_INDEX, date_key, status_shard_key
from tests.conftest import make_table, new_event, store_event
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
    # Events on both bounds of the date range and on the days just outside it.
    bounds = {"date_from": "2026-03-10", "date_to": "2026-08-20"}
    for status in STATUSES:
        for date in ("2026-03-09", "2026-03-10", "2026-08-20", "2026-08-21"):
            events.append(store_event(store, eventId=f"{status}-{date}", date=date, status=status))
    for status in STATUSES:
        for dates in ({}, bounds):
            pages = walk(store, status, limit, **dates)
            # Every page is full but the last, which is not empty: no trailing empty page.
            assert all(len(page) == limit for page in pages[:-1])
            assert 0 < len(pages[-1]) <= limit
            listed = [event["eventId"] for page in pages for event in page]
            expected = sorted(
                (
                    event
                    for event in events
                    if event["status"] == status
                    and dates.get("date_from", "") <= event["date"] <= dates.get("date_to", "~")
                ),
                key=sort_key,
            )
            assert listed == [event["eventId"] for event in expected]
            if dates:
                assert {f"{status}-2026-03-10", f"{status}-2026-08-20"} <= set(listed)
                assert not {f"{status}-2026-03-09", f"{status}-2026-08-21"} & set(listed)


@pytest.mark.parametrize("shards", [1, 4, 16])
def test_a_walk_stays_exact_and_ordered_while_events_are_created(
    make_store: Callable[..., EventStore], dynamodb: Any, shards: int
) -> None:
    store = make_store(shards)
    existing = [event for event in bulk_load(store, dynamodb, 120) if event["status"] == "active"]
    stop = threading.Event()

    def create_in_the_background() -> None:
        rng = random.Random(5)
        for number in range(150):
            if stop.is_set():
                return
            date = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            store_event(store, eventId=f"background{number:03d}", date=date)

    writer = threading.Thread(target=create_in_the_background)
    writer.start()
    listed: list[EventRecord] = []
    ahead, behind = [], []
    cursor = None
    try:
        for number in range(200):
            page = store.list_events(status="active", limit=7, cursor=cursor)
            listed.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
            # Between two pages: an event that sorts after the last one shown must come
            # up later, one that sorts before it must not.
            last = dt.date.fromisoformat(listed[-1]["date"])
            if number < 12:
                later, earlier = last + dt.timedelta(days=1), last - dt.timedelta(days=1)
                ahead.append(store_event(store, eventId=f"ahead{number}", date=str(later)))
                behind.append(store_event(store, eventId=f"behind{number}", date=str(earlier)))
    finally:
        stop.set()
        writer.join()
    keys = [sort_key(event) for event in listed]
    assert keys == sorted(set(keys)), "out of order or repeated"
    ids = {event["eventId"] for event in listed}
    assert {event["eventId"] for event in existing + ahead} <= ids
    assert not {event["eventId"] for event in behind} & ids


def test_an_event_seen_in_two_shards_at_once_is_listed_once(
    make_store: Callable[..., EventStore], dynamodb: Any
) -> None:
    store = make_store(4)
    event = store_event(store, eventId="moving")
    # How the index can look for a moment while a migration moves an event between shards.
    item = to_item(event, 4)
    other_shard = (int(item["statusShard"]["S"].split("#")[1]) + 1) % 4
    echo = {**item, "eventId": {"S": "echo"}}
    echo["statusShard"] = {"S": status_shard_key("active", other_shard)}
    dynamodb.put_item(TableName=store._table, Item=echo)
    page = store.list_events(status="active", limit=10)
    assert len(page.items) == 1
    assert page.next_cursor is None


def test_a_read_by_id_is_strongly_consistent(
    make_store: Callable[..., EventStore], dynamodb: Any
) -> None:
    store = make_store()
    store_event(store, eventId="read-back")
    with CapacityMeter(dynamodb) as meter:
        assert store.get("read-back")["eventId"] == "read-back"
    # DynamoDB bills a small item 1 read unit read consistently, 0.5 eventually.
    assert meter.operations() == {"GetItem"}
    assert meter.units == 1.0


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
    # The first page tells the store how large these items are (see EventListing._batch_size).
    first = store.list_events(status="active", limit=50)
    with CapacityMeter(dynamodb) as meter:
        page = store.list_events(status="active", limit=50, cursor=first.next_cursor)
    assert len(page.items) == 50
    assert meter.operations() == {"Query"}
    # The floor: from the same position, one query per shard for exactly the events it
    # put on the page plus one look-ahead item.
    after = date_key(first.items[-1]["date"], first.items[-1]["eventId"])
    used = Counter(to_item(event, 16)["statusShard"]["S"] for event in page.items)
    with CapacityMeter(dynamodb) as floor:
        for shard in range(16):
            partition = status_shard_key("active", shard)
            dynamodb.query(
                TableName=store._table,
                IndexName=STATUS_INDEX,
                KeyConditionExpression="statusShard = :shard",
                ExpressionAttributeValues={":shard": {"S": partition}},
                ExclusiveStartKey={
                    "eventId": {"S": first.items[-1]["eventId"]},
                    "statusShard": {"S": partition},
                    DATE_KEY_ATTRIBUTE: {"S": after},
                },
                Limit=used[partition] + 1,
            )
    assert meter.units <= floor.units


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
