"""How a status listing reads the index: shards side by side, batches sized to the read
units DynamoDB bills (measured, not computed), and a cursor kept when the budget runs out.

DynamoDB Local reports ConsumedCapacity as AWS bills it (local/capacity.py): each Query
pays its items' size in 4 KB units, rounded up, at least one (0.5 RCU, eventually
consistent).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from service.cursor import CursorCodec
from service.store import EventStore
from service.table import shard_of
from tests.conftest import make_table, store_event
from tests.service.store.conftest import bulk_load, walk


@dataclass
class Queries:
    """Every Query a client sends, its parameters and the read units it consumed."""

    client: Any
    calls: list[tuple[dict[str, Any], float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Queries:
        self.client.meta.events.register("provide-client-params.dynamodb.Query", self._ask)
        self.client.meta.events.register("after-call.dynamodb.Query", self._record)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.meta.events.unregister("provide-client-params.dynamodb.Query", self._ask)
        self.client.meta.events.unregister("after-call.dynamodb.Query", self._record)

    def _ask(self, params: dict[str, Any], **_: Any) -> None:
        params["ReturnConsumedCapacity"] = "TOTAL"

    def _record(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        with self._lock:
            self.calls.append((context["sent"], parsed["ConsumedCapacity"]["CapacityUnits"]))


@pytest.fixture
def sent_params(dynamodb: Any) -> Iterator[None]:
    """Keep each Query's parameters in its request context, for Queries to pair them."""

    def keep(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["sent"] = dict(params)

    dynamodb.meta.events.register_last("provide-client-params.dynamodb.Query", keep)
    yield
    dynamodb.meta.events.unregister("provide-client-params.dynamodb.Query", keep)


def units_for(dynamodb: Any, params: dict[str, Any], limit: int) -> float:
    """What the same Query, asking for `limit` items, is billed."""
    request = {**params, "Limit": limit, "ReturnConsumedCapacity": "TOTAL"}
    units: float = dynamodb.query(**request)["ConsumedCapacity"]["CapacityUnits"]
    return units


@pytest.mark.parametrize(("shards", "limit"), [(4, 20), (2, 40)])
def test_a_shard_read_fills_the_read_units_its_share_of_the_page_is_billed(
    make_store: Callable[..., EventStore], dynamodb: Any, sent_params: None, shards: int, limit: int
) -> None:
    """Each shard is read once, for as many items as cost no more than its share of the
    page (plus the look-ahead item) costs anyway, and not one item more: the batch size,
    the store's estimate of an item's size and its read-unit arithmetic, against the bill."""
    store = make_store(shards)
    bulk_load(store, dynamodb, 600)
    first = store.list_events(status="active", limit=limit)  # tells the store the item size
    with Queries(dynamodb) as queries:
        page = store.list_events(status="active", limit=limit, cursor=first.next_cursor)
    assert len(page.items) == limit
    assert len(queries.calls) == shards  # one read per shard: no second round, no look-ahead
    share = -(-limit // shards) + 1
    for params, units in queries.calls:
        assert params["Limit"] > share
        assert units == units_for(dynamodb, params, share)
        assert units_for(dynamodb, params, params["Limit"] + 1) > units


def test_a_first_page_asks_one_shard_for_the_page_and_the_look_ahead_in_one_call(
    make_store: Callable[..., EventStore], dynamodb: Any, sent_params: None
) -> None:
    store = make_store(1)
    bulk_load(store, dynamodb, 60)
    with Queries(dynamodb) as queries:
        page = store.list_events(status="active", limit=10)
    assert page.next_cursor is not None
    # A second call for the one item that proves a next page exists would cost a unit more.
    assert [params["Limit"] for params, _ in queries.calls] == [11]
    assert [units for _, units in queries.calls] == [0.5]


def test_a_page_never_asks_a_shard_for_more_than_it_and_the_look_ahead(
    make_store: Callable[..., EventStore], dynamodb: Any, sent_params: None
) -> None:
    """Once the store knows its items' size, a shard's batch fills the read units it pays
    for anyway, but never goes past what the page can use plus the look-ahead."""
    store = make_store(1)
    bulk_load(store, dynamodb, 60)
    store.list_events(status="active", limit=10)
    with Queries(dynamodb) as queries:
        store.list_events(status="active", limit=3)
    assert [params["Limit"] for params, _ in queries.calls] == [4]


@pytest.mark.parametrize("shards", [2, 4])
def test_shards_are_read_side_by_side(
    make_store: Callable[..., EventStore], dynamodb: Any, shards: int
) -> None:
    """Each of the first round's Queries waits, while in flight, for all the others to be in
    flight too: read one after another, the first would wait alone and the barrier break."""
    store = make_store(shards)
    bulk_load(store, dynamodb, 120)
    barrier = threading.Barrier(shards, timeout=10)
    overlapping: list[int] = []

    def meet(**_: Any) -> None:
        if len(overlapping) < shards:
            try:
                overlapping.append(barrier.wait())
            except threading.BrokenBarrierError:
                overlapping.append(-1)

    dynamodb.meta.events.register("before-send.dynamodb.Query", meet)
    try:
        store.list_events(status="active", limit=8)
    finally:
        dynamodb.meta.events.unregister("before-send.dynamodb.Query", meet)
    assert sorted(overlapping[:shards]) == list(range(shards))


def test_a_walk_goes_on_when_the_budget_skipped_the_look_ahead(dynamodb: Any) -> None:
    """A page filled exactly, by a shard that may hold more, with the budget spent: the
    look-ahead is skipped and the cursor must stay, or the walk would end early."""
    table = make_table(dynamodb)
    store = EventStore(dynamodb, table, CursorCodec("budget-test-secret-0123"), 2, None, 0.2)
    crowded = [f"crowded-{n}" for n in range(40) if shard_of(f"crowded-{n}", 2) == 0][:3]
    events = [store_event(store, eventId=event_id) for event_id in crowded]
    queries: list[str] = []

    def slowly(**_: Any) -> None:
        queries.append("Query")
        time.sleep(0.3)  # every read outlasts the whole budget

    dynamodb.meta.events.register("before-send.dynamodb.Query", slowly)
    try:
        first = store.list_events(status="active", limit=2)
        assert len(queries) == 2  # one read per shard, and no look-ahead
        assert first.next_cursor is not None
        listed = [event for page in walk(store, "active", 2) for event in page]
    finally:
        dynamodb.meta.events.unregister("before-send.dynamodb.Query", slowly)
        dynamodb.delete_table(TableName=table)
    assert listed == sorted(events, key=lambda event: (event["date"], event["eventId"]))
