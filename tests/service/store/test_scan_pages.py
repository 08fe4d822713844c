"""The unfiltered listing: a paged Scan that asks for one item beyond the page, and goes on
when DynamoDB cuts a page at 1 MB; and the status listing's look-ahead after such a cut.

DynamoDB stops a Scan at 1 MB of items with a `LastEvaluatedKey`, whatever `Limit` says
(DynamoDB Local does the same). The API's own events are a few KB, but the table can hold
larger items (written by another version or tool): a page must still be full, its cursor
must lead on, and the last page must have no cursor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from service.cursor import CursorCodec
from service.errors import StoreUnavailable
from service.store import EventStore, to_item
from tests.conftest import new_event

PADDING = 300_000  # bytes: DynamoDB's 1 MB cut falls after the fourth such item


@pytest.fixture
def scan_limits(dynamodb: Any) -> Iterator[list[int | None]]:
    """The `Limit` of every Scan the store sends, in order."""
    limits: list[int | None] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        limits.append(params.get("Limit"))

    dynamodb.meta.events.register_last("provide-client-params.dynamodb.Scan", record)
    yield limits
    dynamodb.meta.events.unregister("provide-client-params.dynamodb.Scan", record)


def padded_events(dynamodb: Any, table: str, count: int, padding: int = PADDING) -> list[str]:
    """Events stored with an extra attribute of `padding` bytes; their ids, in scan order."""
    for number in range(count):
        event = {**new_event(eventId=f"large-{number}"), "createdAt": "2026-01-01T00:00:00.000Z"}
        event |= {"updatedAt": event["createdAt"], "version": 1, "status": "active"}
        item = {**to_item(event, 1), "padding": {"S": "x" * padding}}
        dynamodb.put_item(TableName=table, Item=item)
    ids: list[str] = []
    request: dict[str, Any] = {"TableName": table, "ProjectionExpression": "eventId"}
    while True:
        response = dynamodb.scan(**request)
        ids += [item["eventId"]["S"] for item in response["Items"]]
        if "LastEvaluatedKey" not in response:
            return ids
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def pages(store: EventStore, limit: int) -> list[list[str]]:
    """The ids of each page of a walk of the unfiltered listing."""
    found, cursor = [], None
    while True:
        page = store.list_events(status=None, limit=limit, cursor=cursor)
        found.append([event["eventId"] for event in page.items])
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def test_a_scan_page_asks_for_one_item_beyond_the_page(
    make_store: Callable[..., EventStore], scan_limits: list[int | None]
) -> None:
    store = make_store(shards=1)
    for number in range(6):
        store.create(new_event(eventId=f"small-{number}", status="active"))
    walked = pages(store, 3)
    assert [len(page) for page in walked] == [3, 3]  # no cursor to an empty third page
    assert len({event_id for page in walked for event_id in page}) == 6
    # One Scan per page, each for the page and the one item that proves a next page.
    assert scan_limits == [4, 4]


def test_a_page_cut_at_1_mb_is_filled_from_where_dynamodb_stopped(
    make_store: Callable[..., EventStore],
    dynamodb: Any,
    table_name: str,
    scan_limits: list[int | None],
) -> None:
    store = make_store(shards=1, table=table_name)
    everything = padded_events(dynamodb, table_name, 6)
    scan_limits.clear()
    walked = pages(store, 5)
    assert walked == [everything[:5], everything[5:]]
    # The first Scan stopped at 1 MB after four items; the second asked for the rest of
    # the page and the look-ahead, and no more.
    assert scan_limits == [6, 2, 6]


def test_a_page_cut_at_1_mb_when_just_full_still_asks_for_the_look_ahead(
    make_store: Callable[..., EventStore],
    dynamodb: Any,
    table_name: str,
    scan_limits: list[int | None],
) -> None:
    """A `LastEvaluatedKey` does not prove more items (AWS says so of Scan): with a full
    page cut at 1 MB, the store asks for the one item beyond it before it hands out a
    cursor, so a cursor never leads to an empty last page."""
    store = make_store(shards=1, table=table_name)
    everything = padded_events(dynamodb, table_name, 5)
    scan_limits.clear()
    assert pages(store, 4) == [everything[:4], everything[4:]]
    assert scan_limits == [5, 1, 5]


def test_a_status_page_cut_at_1_mb_reads_its_look_ahead_alone(
    make_store: Callable[..., EventStore], dynamodb: Any, table_name: str
) -> None:
    """A shard's Query cut at 1 MB returns fewer items than asked: the page can use them
    all, and the one item that proves a next page is then read on its own, one item."""
    store = make_store(shards=1, table=table_name)
    everything = padded_events(dynamodb, table_name, 5, padding=350_000)
    limits: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        limits.append(params["Limit"])

    dynamodb.meta.events.register_last("provide-client-params.dynamodb.Query", record)
    try:
        page = store.list_events(status="active", limit=3)
    finally:
        dynamodb.meta.events.unregister("provide-client-params.dynamodb.Query", record)
    assert len(page.items) == 3
    assert page.next_cursor is not None
    # The page and its look-ahead asked at once, cut after three items; then one item.
    assert limits == [4, 1]
    rest = store.list_events(status="active", limit=3, cursor=page.next_cursor)
    assert {event["eventId"] for event in page.items + rest.items} == set(everything)


def test_a_page_that_needs_another_call_past_its_budget_is_503_saying_why(
    dynamodb: Any, table_name: str
) -> None:
    """The first Scan always goes; a second one, past the request's budget, does not."""
    store = EventStore(dynamodb, table_name, CursorCodec("scan-test-secret-0123"), 1, None, 0.2)
    padded_events(dynamodb, table_name, 6)
    scans: list[str] = []

    def slowly(**_: Any) -> None:
        scans.append("Scan")
        time.sleep(0.3)  # the first Scan outlasts the whole budget

    dynamodb.meta.events.register("before-send.dynamodb.Scan", slowly)
    try:
        with pytest.raises(StoreUnavailable) as raised:
            store.list_events(status=None, limit=5)
    finally:
        dynamodb.meta.events.unregister("before-send.dynamodb.Scan", slowly)
    assert scans == ["Scan"]
    assert raised.value.detail == "The event store is answering too slowly; retry shortly."
