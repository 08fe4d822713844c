"""Writes the SDK sent twice: the first attempt's answer was lost, and botocore retried.

A write that reached DynamoDB and whose answer then timed out is retried by the SDK; the
retry fails its own condition against the item the first attempt wrote. The store must
tell that item from a competitor's: its own write is a success (201, 200, 204 for the
client), anything else is still the 409, 412 or 404 it would have been.

`AnswerLost` does to the first attempt what a lost answer does, in this process: the
request reaches DynamoDB Local (or not), and the client then sees a read timeout. The
store runs on a client configured as the service's (`create_dynamodb_client`), so the
retry is botocore's own. `tests/reliability/test_faults.py` holds the same over real HTTP
through a slow proxy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session

from service.errors import EventAlreadyExists, EventNotFound, VersionMismatch
from service.settings import Settings
from service.store import EventStore, create_dynamodb_client, to_item
from tests.conftest import store_event, table_snapshot


class AnswerLost:
    """A before-send hook: the first attempt of a call goes out (or not, when `lands` is
    False), `meanwhile` runs with its parameters, and its answer never comes back."""

    def __init__(
        self, lands: bool, meanwhile: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self.lands = lands
        self.meanwhile = meanwhile
        self.attempts = 0

    def __call__(self, request: Any, **_: Any) -> None:
        self.attempts += 1
        if self.attempts > 1:
            return  # botocore's retry goes out as usual
        if self.lands:
            URLLib3Session().send(request)
        if self.meanwhile is not None:
            self.meanwhile(json.loads(request.body))
        raise ReadTimeoutError(endpoint_url=request.url)


@pytest.fixture
def service_client(settings: Settings) -> Any:
    """A client as the service makes it: standard retries, the settings' attempts."""
    assert settings.dynamodb_max_attempts >= 2
    return create_dynamodb_client(settings)


@pytest.fixture
def lose_answer(service_client: Any) -> Iterator[Callable[[str, AnswerLost], AnswerLost]]:
    """Lose the first answer of the named operation (PutItem, UpdateItem, DeleteItem)."""
    registered: list[tuple[str, AnswerLost]] = []

    def install(operation: str, hook: AnswerLost) -> AnswerLost:
        event = f"before-send.dynamodb.{operation}"
        service_client.meta.events.register_first(event, hook)
        registered.append((event, hook))
        return hook

    yield install
    for event, hook in registered:
        service_client.meta.events.unregister(event, hook)


@pytest.fixture
def store(settings: Settings, service_client: Any) -> EventStore:
    return EventStore.from_settings(settings, service_client)


def _stored(dynamodb: Any, table_name: str) -> list[dict[str, Any]]:
    return table_snapshot(dynamodb, table_name)


def test_a_create_whose_answer_was_lost_returns_the_event_it_stored(
    store: EventStore, lose_answer: Any, dynamodb: Any, table_name: str, settings: Settings
) -> None:
    hook = lose_answer("PutItem", AnswerLost(lands=True))
    created = store_event(store, eventId="lost-answer")
    assert hook.attempts == 2  # the first landed, the retry failed its condition against it
    assert store.get("lost-answer") == created
    assert _stored(dynamodb, table_name) == [to_item(created, settings.status_shards)]


def test_a_retried_create_that_finds_another_event_under_its_id_is_a_conflict(
    store: EventStore, lose_answer: Any, dynamodb: Any, table_name: str
) -> None:
    """The first attempt never arrived; meanwhile another client created the same id."""
    theirs: dict[str, Any] = {}

    def competitor(params: dict[str, Any]) -> None:
        theirs.update(params["Item"], title={"S": "Theirs"})
        dynamodb.put_item(TableName=table_name, Item=theirs)

    hook = lose_answer("PutItem", AnswerLost(lands=False, meanwhile=competitor))
    with pytest.raises(EventAlreadyExists):
        store_event(store, eventId="taken", title="Mine")
    assert hook.attempts == 2
    assert _stored(dynamodb, table_name) == [theirs]


def test_an_update_whose_answer_was_lost_returns_the_version_it_wrote(
    store: EventStore, lose_answer: Any, dynamodb: Any, table_name: str
) -> None:
    store_event(store, eventId="bumped", capacity=10)
    hook = lose_answer("UpdateItem", AnswerLost(lands=True))
    updated = store.update("bumped", {"capacity": 11}, expected_versions=[1])
    assert hook.attempts == 2
    assert (updated["capacity"], updated["version"]) == (11, 2)  # one write, one version
    assert store.get("bumped") == updated


def _competing_update(
    dynamodb: Any, table_name: str, **attributes: Any
) -> Callable[[dict[str, Any]], None]:
    """Meanwhile another client moves the event to version 2 with these attributes; a
    callable value is given the update's own parameters."""

    def competitor(params: dict[str, Any]) -> None:
        item = dynamodb.get_item(TableName=table_name, Key=params["Key"])["Item"]
        values = params["ExpressionAttributeValues"]
        changed = {
            name: value(values) if callable(value) else value for name, value in attributes.items()
        }
        item.update(changed, version={"N": "2"})
        dynamodb.put_item(TableName=table_name, Item=item)

    return competitor


def test_a_retried_update_that_finds_a_competitors_version_is_a_mismatch(
    store: EventStore, lose_answer: Any, dynamodb: Any, table_name: str
) -> None:
    """Even one that made the very same change: its `updatedAt` is not this write's."""
    store_event(store, eventId="contested", capacity=10)
    earlier = "2026-01-01T00:00:00.000Z"
    competitor = _competing_update(
        dynamodb, table_name, capacity={"N": "11"}, updatedAt={"S": earlier}
    )
    lose_answer("UpdateItem", AnswerLost(lands=False, meanwhile=competitor))
    with pytest.raises(VersionMismatch):
        store.update("contested", {"capacity": 11}, expected_versions=[1])
    assert store.get("contested")["updatedAt"] == earlier


def test_a_retried_update_is_its_own_only_if_the_item_holds_its_changes(
    store: EventStore, lose_answer: Any, dynamodb: Any, table_name: str
) -> None:
    """A competitor's write in the same millisecond carries the same `updatedAt`; the
    changed fields still tell it apart."""
    store_event(store, eventId="same-millisecond", capacity=10)
    competitor = _competing_update(
        dynamodb, table_name, capacity={"N": "12"}, updatedAt=lambda values: values[":now"]
    )
    lose_answer("UpdateItem", AnswerLost(lands=False, meanwhile=competitor))
    with pytest.raises(VersionMismatch):
        store.update("same-millisecond", {"capacity": 11}, expected_versions=[1])
    assert store.get("same-millisecond")["capacity"] == 12


def test_a_delete_whose_answer_was_lost_succeeds(
    store: EventStore, lose_answer: Any, dynamodb: Any, table_name: str
) -> None:
    store_event(store, eventId="gone")
    hook = lose_answer("DeleteItem", AnswerLost(lands=True))
    store.delete("gone", expected_versions=[1])  # no VersionMismatch, no EventNotFound
    assert hook.attempts == 2
    assert _stored(dynamodb, table_name) == []


def test_a_retried_delete_that_finds_a_competitors_version_is_a_mismatch(
    store: EventStore, lose_answer: Any, dynamodb: Any, table_name: str
) -> None:
    store_event(store, eventId="kept")
    competitor = _competing_update(dynamodb, table_name, title={"S": "Theirs"})
    lose_answer("DeleteItem", AnswerLost(lands=False, meanwhile=competitor))
    with pytest.raises(VersionMismatch):
        store.delete("kept", expected_versions=[1])
    assert store.get("kept")["title"] == "Theirs"


def test_a_delete_of_an_absent_event_is_not_found_when_nothing_was_retried(
    store: EventStore,
) -> None:
    """Only a retry can find the item gone because of its own first attempt."""
    with pytest.raises(EventNotFound):
        store.delete("never-there", expected_versions=[1])
    with pytest.raises(EventNotFound):
        store.delete("never-there")
