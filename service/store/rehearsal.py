"""A rehearsal: the client's DynamoDB calls answered inside the process, as if they succeeded.

SnapStart's warm-up (`service.snapstart`) must run each operation's success path before the
snapshot (botocore's first call of each operation, its parse of an item's attribute
values, the routes' response building) without reading or writing a table. Inside
`EventStore.rehearsal()`, botocore serialises and signs each call as usual, then a `before-send`
handler answers it with the body DynamoDB sends when the call succeeds and finds
`record`, and botocore parses that: no call leaves the process. botocore documents the
event for this ("allows a response to be returned that fulfills the request"):
https://docs.aws.amazon.com/botocore/latest/topics/events.html#before-send
"""

from __future__ import annotations

import contextlib
import json
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from service.store.items import EventRecord, to_item
from service.table import DATE_KEY_ATTRIBUTE, PARTITION_KEY, STATUS_SHARD_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Item = Mapping[str, Any]
Request = Mapping[str, Any]


def _page(item: Item, request: Request) -> dict[str, Any]:
    """A full page, as many items as the call's `Limit`, and the key to go on after it, so
    a listing reads one page and its cursor, and stops."""
    count = request.get("Limit", 1)
    keys = [PARTITION_KEY] + (
        [STATUS_SHARD_ATTRIBUTE, DATE_KEY_ATTRIBUTE] if "IndexName" in request else []
    )
    return {
        "Items": [item] * count,
        "Count": count,
        "ScannedCount": count,
        "LastEvaluatedKey": {name: item[name] for name in keys},
    }


# What DynamoDB answers when each operation the store sends succeeds and finds the item.
# An operation missing here fails its rehearsal instead of reaching a table.
ANSWERS: dict[str, Callable[[Item, Request], dict[str, Any]]] = {
    "GetItem": lambda item, _: {"Item": item},
    "PutItem": lambda item, _: {},
    "UpdateItem": lambda item, _: {"Attributes": item},  # the store asks for ALL_NEW
    "DeleteItem": lambda item, _: {},
    "Query": _page,
    "Scan": _page,
    "TransactWriteItems": lambda item, _: {},
}
EVENT = "before-send.dynamodb"  # every operation's event: before-send.dynamodb.<Operation>


class NotRehearsed(Exception):
    """A call of an operation the rehearsal has no answer for: it is not sent either."""


class _Body:
    """What AWSResponse reads a body from (urllib3's response, in a real call)."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._content


def dynamodb_response(
    request: AWSPreparedRequest, status: int, document: Mapping[str, Any]
) -> AWSResponse:
    """An answer to `request` as DynamoDB sends it, `document` as its JSON body, for a
    `before-send` handler to return. botocore reads the status and the body alone: any 2xx
    is a success, and a 400's body names the error (`__type`) as DynamoDB's do."""
    body = json.dumps(document).encode()
    return AWSResponse(request.url, status, {}, _Body(body))  # type: ignore[arg-type]


class _Answers:
    """A client's `before-send` handler: while it holds an item, it answers every call.

    It is registered once per client and then stays, switched off: botocore empties its
    cache of event handlers whenever a handler is registered or unregistered, and a
    client's first call of each operation after that looks its handlers up again, which is
    the kind of first-request work the warm-up is there to remove."""

    def __init__(self, item: Item) -> None:
        self.item: Item | None = item

    def __call__(
        self, request: AWSPreparedRequest, event_name: str, **_: Any
    ) -> AWSResponse | None:
        if self.item is None:
            return None  # not rehearsing: botocore sends the call
        operation = event_name.removeprefix(f"{EVENT}.")
        if operation not in ANSWERS:
            raise NotRehearsed(f"no rehearsed answer for DynamoDB's {operation}")
        sent = json.loads(request.body)  # type: ignore[arg-type]  # DynamoDB's JSON, as bytes
        return dynamodb_response(request, 200, ANSWERS[operation](self.item, sent))


_ANSWERS_OF: weakref.WeakKeyDictionary[Any, _Answers] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def rehearsal(client: DynamoDBClient, record: EventRecord, shards: int) -> Iterator[None]:
    """Inside, every call of `client` is answered in the process as a success that finds
    `record`, as the store writes it (on `shards` status shards); outside, calls reach
    DynamoDB again."""
    item = to_item(record, shards)
    answers = _ANSWERS_OF.get(client)
    if answers is None:
        answers = _ANSWERS_OF[client] = _Answers(item)
        # The stubs type handlers as returning None; before-send's may return a response.
        client.meta.events.register(EVENT, answers)  # type: ignore[arg-type]
    else:
        answers.item = item
    try:
        yield
    finally:
        answers.item = None
