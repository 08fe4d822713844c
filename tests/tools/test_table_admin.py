"""TableAdmin.put_many on DynamoDB Local: put-if-absent in batches, partial batches resent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from service.cursor import CursorCodec
from service.errors import StoreUnavailable
from service.models import EventCreate
from service.store import EventStore
from tests.conftest import new_event
from tools import table_admin
from tools.table_admin import TableAdmin

STORED_AT = "2026-01-01T00:00:00.000Z"


def whole_event(event_id: str, **overrides: Any) -> dict[str, Any]:
    """An event with its server fields, as put_many takes it."""
    fields = EventCreate.model_validate(new_event(eventId=event_id, **overrides))
    return fields.model_dump(by_alias=True, mode="json") | {
        "createdAt": STORED_AT,
        "updatedAt": STORED_AT,
        "version": 1,
    }


@pytest.fixture
def store(dynamodb: Any, table_name: str) -> EventStore:
    """How the API reads what the admin writes."""
    return EventStore(dynamodb, table_name, CursorCodec("batch-test-secret-0123"), 4)


@pytest.fixture
def admin(dynamodb: Any, table_name: str) -> TableAdmin:
    return TableAdmin(dynamodb, table_name, 4)


class OnePerCall:
    """Lets DynamoDB Local take one entry of each batch call and hands the rest back as
    unprocessed, as DynamoDB does under throttling. Uses botocore's event hooks, so the
    entries handed back really were not written or read."""

    def __init__(self, client: Any, operation: str, unprocessed: str) -> None:
        self.calls = 0
        self._client = client
        self._operation = operation
        self._unprocessed = unprocessed
        self._left: dict[str, Any] = {}

    def __enter__(self) -> OnePerCall:
        events = self._client.meta.events
        events.register(f"provide-client-params.dynamodb.{self._operation}", self._trim)
        events.register(f"after-call.dynamodb.{self._operation}", self._hand_back)
        return self

    def __exit__(self, *exc_info: object) -> None:
        events = self._client.meta.events
        events.unregister(f"provide-client-params.dynamodb.{self._operation}", self._trim)
        events.unregister(f"after-call.dynamodb.{self._operation}", self._hand_back)

    def _trim(self, params: dict[str, Any], **_: Any) -> None:
        self.calls += 1
        ((table, entries),) = params["RequestItems"].items()
        kept: Any
        if isinstance(entries, list):  # BatchWriteItem: a list of write requests
            kept, rest = entries[:1], entries[1:]
            self._left = {table: rest} if rest else {}
        else:  # BatchGetItem: keys plus read options
            kept, rest = {**entries, "Keys": entries["Keys"][:1]}, entries["Keys"][1:]
            self._left = {table: {**entries, "Keys": rest}} if rest else {}
        params["RequestItems"] = {table: kept}

    def _hand_back(self, parsed: dict[str, Any], **_: Any) -> None:
        parsed[self._unprocessed] = self._left


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_admin, "BATCH_BACKOFF_SECONDS", 0.0)


def test_put_many_writes_events_the_api_reads_and_lists(
    admin: TableAdmin, store: EventStore
) -> None:
    events = [
        whole_event(f"batch-{number:03d}", status=("active", "cancelled")[number % 2])
        for number in range(60)
    ]

    assert admin.put_many(events) == 60

    assert store.get("batch-007") == events[7]
    listed = store.list_events(status="cancelled", limit=100).items
    assert sorted(event["eventId"] for event in listed) == [
        event["eventId"] for event in events if event["status"] == "cancelled"
    ]


def test_put_many_never_overwrites_a_stored_event(admin: TableAdmin, store: EventStore) -> None:
    admin.put_many([whole_event("edited")])
    edited = store.update("edited", {"title": "Renamed by a user"})

    written = admin.put_many([whole_event("edited"), whole_event("new")])

    assert written == 1
    assert store.get("edited") == edited
    assert store.get("new")["version"] == 1


def test_unprocessed_items_are_resent_until_written(
    admin: TableAdmin, store: EventStore, dynamodb: Any, no_backoff: None
) -> None:
    events = [whole_event(f"slow-{number}") for number in range(5)]

    with OnePerCall(dynamodb, "BatchWriteItem", "UnprocessedItems") as throttle:
        assert admin.put_many(events) == 5

    assert throttle.calls == 5
    assert all(store.get(event["eventId"]) == event for event in events)


def test_unprocessed_keys_are_resent_so_no_stored_event_is_overwritten(
    admin: TableAdmin, store: EventStore, dynamodb: Any, no_backoff: None
) -> None:
    admin.put_many([whole_event(f"kept-{number}") for number in range(3)])
    edited = store.update("kept-2", {"capacity": 7})

    with OnePerCall(dynamodb, "BatchGetItem", "UnprocessedKeys") as throttle:
        written = admin.put_many([whole_event(f"kept-{number}") for number in range(4)])

    assert throttle.calls == 4
    assert written == 1
    assert store.get("kept-2") == edited


def test_a_batch_still_unprocessed_after_every_attempt_is_store_unavailable(
    admin: TableAdmin, dynamodb: Any, no_backoff: None
) -> None:
    events = [whole_event(f"stuck-{number}") for number in range(table_admin.BATCH_ATTEMPTS + 2)]

    with (
        OnePerCall(dynamodb, "BatchWriteItem", "UnprocessedItems") as throttle,
        pytest.raises(StoreUnavailable),
    ):
        admin.put_many(events)

    assert throttle.calls == table_admin.BATCH_ATTEMPTS


@pytest.mark.parametrize(
    "make_events",
    [
        lambda: [whole_event("twice"), whole_event("twice")],
        lambda: [{key: value for key, value in whole_event("x").items() if key != "version"}],
        lambda: [whole_event("x") | {"extra": "field"}],
    ],
    ids=["duplicate id", "missing field", "unknown field"],
)
def test_put_many_refuses_malformed_input_and_writes_nothing(
    admin: TableAdmin, store: EventStore, make_events: Callable[[], list[dict[str, Any]]]
) -> None:
    with pytest.raises(ValueError, match=r"eventId|fields"):
        admin.put_many(make_events())

    assert store.list_events(status=None, limit=10).items == []
