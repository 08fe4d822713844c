"""EventStore's single-event reads and writes against DynamoDB Local: conditions and races."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from local.capacity import CapacityMeter
from service.cursor import CursorCodec
from service.errors import EventAlreadyExists, EventNotFound, StoreUnavailable, VersionMismatch
from service.store import PUBLIC_FIELDS, EventStore, to_item
from service.table import INDEX_ATTRIBUTES, KEY_ATTRIBUTE, KEY_EXPIRY_ATTRIBUTE, shard_of
from tests.conftest import (
    TEST_CURSOR_SECRET,
    create_fields,
    make_settings,
    new_event,
    store_event,
    temporary_keys_table,
)
from tests.service.store.conftest import walk


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


class WrittenJustBefore:
    """A provide-client-params hook: just before the store's write leaves, another client
    stores the item that write's condition will then fail against; `item` makes it."""

    def __init__(self, other_client: Any, item: Callable[[dict[str, Any]], dict[str, Any]]):
        self.other_client = other_client
        self.item = item

    def __call__(self, params: dict[str, Any], **_: Any) -> None:
        self.other_client.put_item(TableName=params["TableName"], Item=self.item(params))


def test_a_failed_create_condition_without_a_retry_is_a_conflict_even_against_its_own_item(
    make_store: Callable[..., EventStore], dynamodb: Any, dynamodb_local: Any
) -> None:
    """Only a retried write can have landed earlier: an identical item stored by someone
    else (timestamps to the millisecond included) is still a competitor's."""
    store = make_store()
    hook = WrittenJustBefore(dynamodb_local.client(), lambda params: params["Item"])
    dynamodb.meta.events.register("provide-client-params.dynamodb.PutItem", hook)
    try:
        with pytest.raises(EventAlreadyExists):
            store_event(store, eventId="twin")
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.PutItem", hook)


def test_a_failed_update_condition_without_a_retry_is_a_mismatch_even_against_its_own_item(
    make_store: Callable[..., EventStore], dynamodb: Any, dynamodb_local: Any
) -> None:
    store = make_store()
    stored = to_item(store_event(store, eventId="twin"), 4)

    def as_if_applied(params: dict[str, Any]) -> dict[str, Any]:
        # The update's own values and timestamp, at a version If-Match does not accept.
        values = params["ExpressionAttributeValues"]
        names = params.get("ExpressionAttributeNames", {})
        changed = {name: values[":" + placeholder[1:]] for placeholder, name in names.items()}
        return {**stored, **changed, "updatedAt": values[":now"], "version": {"N": "2"}}

    hook = WrittenJustBefore(dynamodb_local.client(), as_if_applied)
    dynamodb.meta.events.register("provide-client-params.dynamodb.UpdateItem", hook)
    try:
        with pytest.raises(VersionMismatch):
            store.update("twin", {"capacity": 9}, expected_versions=[1])
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.UpdateItem", hook)


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_stored_event_has_exactly_its_fields_and_index_keys(
    client: TestClient, dynamodb: Any, table_name: str, method: str
) -> None:
    """Nothing else lands in the item: not a body's `eventId` under another name either."""
    expected = set(PUBLIC_FIELDS) | set(INDEX_ATTRIBUTES)

    def stored() -> set[str]:
        item = dynamodb.get_item(TableName=table_name, Key={"eventId": {"S": "exact"}})["Item"]
        return set(item)

    assert client.post("/events", json=new_event(eventId="exact")).status_code == 201
    assert stored() == expected
    changes = {"eventId": "exact", "title": "Renamed", "status": "cancelled"}
    assert client.request(method, "/events/exact", json=changes).status_code == 200
    assert stored() == expected


def test_an_update_moves_the_index_keys_exactly_where_a_create_puts_them(
    make_store: Callable[..., EventStore], dynamodb: Any, table_name: str
) -> None:
    """After a change of date or status the item is what a create of the same event would
    store, index keys included: a listing's order and its cursors' resume points read them."""
    store = make_store(shards=4, table=table_name)
    store_event(store, eventId="moved", date="2026-05-14", status="active")
    for changes in ({"date": "2026-06-01"}, {"status": "cancelled"}, {"date": "2027-01-02"}):
        updated = store.update("moved", changes)
        item = dynamodb.get_item(TableName=table_name, Key={"eventId": {"S": "moved"}})["Item"]
        assert item == to_item(updated, 4), changes


# A store built from the settings, as the service builds it.


def test_a_store_from_settings_reads_every_shard_the_settings_name(
    dynamodb_local: Any, dynamodb: Any, table_name: str
) -> None:
    """Mid-migration from 8 shards to 2 (EVENTS_STATUS_SHARDS_READ=8): events still in
    shards 2-7 are listed."""
    settings = make_settings(
        dynamodb_local, table_name, EVENTS_STATUS_SHARDS="2", EVENTS_STATUS_SHARDS_READ="8"
    )
    writer = EventStore(dynamodb, table_name, CursorCodec(TEST_CURSOR_SECRET), 8)
    ids = {store_event(writer, eventId=f"spread-{n}", status="active")["eventId"] for n in range(8)}
    assert max(shard_of(event_id, 8) for event_id in ids) >= 2
    reader = EventStore.from_settings(settings)
    assert {event["eventId"] for page in walk(reader, "active", 100) for event in page} == ids


def test_a_store_from_settings_keeps_keys_where_and_as_long_as_the_settings_say(
    dynamodb_local: Any, dynamodb: Any, table_name: str
) -> None:
    with temporary_keys_table(dynamodb, f"{table_name}-custom-keys") as custom:
        settings = make_settings(
            dynamodb_local,
            table_name,
            EVENTS_IDEMPOTENCY_TABLE_NAME=custom,
            EVENTS_IDEMPOTENCY_KEY_TTL="600",
        )
        before = time.time()
        EventStore.from_settings(settings).create_with_key("caller", "the-key", create_fields())
        records = dynamodb.scan(TableName=custom)["Items"]
        assert [record[KEY_ATTRIBUTE]["S"] for record in records] == ["caller the-key"]
        # Remembered for the settings' 600 s, not the default day.
        expires = int(records[0][KEY_EXPIRY_ATTRIBUTE]["N"])
        assert int(before) + 600 <= expires <= time.time() + 600
