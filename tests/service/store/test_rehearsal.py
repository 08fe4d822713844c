"""The store's rehearsal (`EventStore.rehearsal`): every call answered inside the process as
a success that finds the given event, none sent; after it, calls reach DynamoDB again."""

from __future__ import annotations

from typing import Any

import pytest

from service.errors import EventNotFound
from service.settings import Settings
from service.store import EventStore, create_dynamodb_client, to_item
from service.store.rehearsal import ANSWERS, NotRehearsed
from service.table import DATE_KEY_ATTRIBUTE, PARTITION_KEY, STATUS_SHARD_ATTRIBUTE
from tests.conftest import store_event, table_snapshot


@pytest.fixture
def dynamodb_client(settings: Settings) -> Any:
    return create_dynamodb_client(settings)


@pytest.fixture
def store(settings: Settings, dynamodb_client: Any) -> EventStore:
    return EventStore.from_settings(settings, dynamodb_client)


def test_every_call_is_answered_as_a_success_and_nothing_is_sent(
    store: EventStore, settings: Settings, dynamodb: Any, table_name: str
) -> None:
    stored = store_event(store, status="active")
    before = table_snapshot(dynamodb, table_name)
    answer = {**stored, "eventId": "rehearsed", "title": "Only in the process", "version": 3}

    with store.rehearsal(answer):
        assert store.get(stored["eventId"]) == answer
        assert store.get("not-there") == answer
        assert store_event(store, eventId="never-written")["eventId"] == "never-written"
        created = store.create_with_key("scope", "key-1", {**stored, "eventId": "keyed"})
        assert created.event["eventId"] == "keyed"
        assert store.update(stored["eventId"], {"capacity": 9}, [99]) == answer
        store.delete(stored["eventId"], [99])  # no condition can fail: nothing refuses it
        # Listings get a full page and a cursor to the next, on the index and without it.
        for status in ("active", None):
            page = store.list_events(status=status, limit=2)
            assert (page.items, page.next_cursor is not None) == ([answer] * 2, True)

    assert table_snapshot(dynamodb, table_name) == before
    # Outside, the same client reads the table again; a second rehearsal answers its own.
    assert store.get(stored["eventId"]) == stored
    with store.rehearsal({**answer, "title": "Again"}):
        assert store.get(stored["eventId"])["title"] == "Again"
    assert store.get(stored["eventId"]) == stored
    with pytest.raises(EventNotFound):
        store.get("not-there")


def test_an_operation_without_an_answer_is_refused_not_sent(
    store: EventStore, dynamodb_client: Any, table_name: str
) -> None:
    with store.rehearsal(store_event(store)), pytest.raises(NotRehearsed, match="DescribeTable"):
        dynamodb_client.describe_table(TableName=table_name)
    described = dynamodb_client.describe_table(TableName=table_name)
    assert described["Table"]["TableName"] == table_name


def test_a_rehearsal_ends_when_its_block_fails(store: EventStore) -> None:
    stored = store_event(store)
    with pytest.raises(RuntimeError), store.rehearsal({**stored, "title": "rehearsed"}):
        raise RuntimeError
    assert store.get(stored["eventId"]) == stored


def test_a_page_ends_with_the_key_dynamodb_returns_to_go_on_from() -> None:
    """A Query of the status index goes on from the table's key and the index's; a Scan
    from the table's key alone, as DynamoDB's LastEvaluatedKey holds them."""
    item = to_item(
        {
            "eventId": "e",
            "status": "active",
            "date": "2026-05-14",
            "title": "t",
            "capacity": 1,
            "version": 1,
        },
        shards=4,
    )
    query = ANSWERS["Query"](item, {"IndexName": "byStatus", "Limit": 3})
    assert query["Items"] == [item] * 3
    assert query["Count"] == query["ScannedCount"] == 3
    keys = (PARTITION_KEY, STATUS_SHARD_ATTRIBUTE, DATE_KEY_ATTRIBUTE)
    assert query["LastEvaluatedKey"] == {name: item[name] for name in keys}
    scan = ANSWERS["Scan"](item, {"Limit": 2})
    assert scan["LastEvaluatedKey"] == {PARTITION_KEY: item[PARTITION_KEY]}
    assert ANSWERS["Scan"](item, {})["Items"] == [item]
