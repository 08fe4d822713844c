"""EventStore's listings against DynamoDB Local: shards merged, pages walked, what each costs."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from local.capacity import CapacityMeter
from service.store import EventRecord, EventStore, to_item
from service.table import DATE_KEY_ATTRIBUTE, STATUS_INDEX, date_key, status_shard_key
from tests.conftest import store_event
from tests.service.store.conftest import STATUSES, bulk_load, sort_key, walk


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
