"""EventStore: the only code that knows DynamoDB.

Reads and writes events through the low-level client (the resource layer costs import
time and a second conversion pass), builds and checks cursors, makes every write
conditional, and maps botocore's exceptions to the domain errors of `service.errors`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from service.cursor import CursorCodec
from service.errors import (
    EventAlreadyExists,
    EventNotFound,
    InvalidCursor,
    StoreUnavailable,
    VersionMismatch,
)
from service.table import (
    DATE_KEY_ATTRIBUTE,
    DATE_KEY_SEPARATOR,
    DATE_KEY_UPPER,
    PARTITION_KEY,
    STATUS_INDEX,
    STATUS_SHARD_ATTRIBUTE,
    date_key,
    index_keys,
    shard_of,
    status_shard_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from service.settings import Settings

EventRecord = dict[str, Any]
"""An event as the API shows it: camelCase keys, exactly the public fields."""

NUMBER_FIELDS = ("capacity", "version")
PUBLIC_FIELDS = (
    "eventId",
    "title",
    "description",
    "date",
    "location",
    "capacity",
    "organizer",
    "status",
    "createdAt",
    "updatedAt",
    "version",
)

# Errors after which a later retry may well succeed: the client gets a 503 with Retry-After.
_TRANSIENT_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
        "ResourceNotFoundException",  # table missing or still being created
        "TransactionConflictException",
    }
)
_CONDITION_FAILED = "ConditionalCheckFailedException"

# 2: a status listing's cursor holds one index key, not one position per shard.
CURSOR_VERSION = 2
# A Query is billed per 4 KB read, rounded up per call (0.5 RCU eventually consistent), and
# each call pays at least one unit: items that fit in the unit a shard read pays for anyway
# cost nothing, and every extra round trip costs a unit.
READ_UNIT_BYTES = 4096


class Page(NamedTuple):
    items: list[EventRecord]
    next_cursor: str | None


def create_dynamodb_client(settings: Settings, max_pool_connections: int = 10) -> DynamoDBClient:
    """One client per process: botocore clients are thread-safe and keep connections alive.

    Made by botocore's own session: boto3 would only wrap the same call, and importing it
    (with s3transfer) costs every cold start (bench/README.md has the figures).
    """
    from botocore.config import Config
    from botocore.session import get_session

    config = Config(
        region_name=settings.aws_region,
        connect_timeout=settings.dynamodb_connect_timeout,
        read_timeout=settings.dynamodb_read_timeout,
        retries={"mode": "standard", "total_max_attempts": settings.dynamodb_max_attempts},
        max_pool_connections=max(max_pool_connections, settings.status_shards_to_read + 2),
        tcp_keepalive=True,
    )
    client = get_session().create_client(
        "dynamodb", endpoint_url=settings.dynamodb_endpoint_url, config=config
    )
    return cast("DynamoDBClient", client)


def rfc3339(moment: dt.datetime) -> str:
    """The API's timestamp form: UTC, milliseconds, `Z`."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    return rfc3339(dt.datetime.now(dt.UTC))


def new_event_id() -> str:
    return secrets.token_urlsafe(16)


def _attribute(name: str, value: Any) -> AttributeValueTypeDef:
    return {"N": str(value)} if name in NUMBER_FIELDS else {"S": value}


def to_item(event: Mapping[str, Any], shards: int) -> dict[str, AttributeValueTypeDef]:
    item = {name: _attribute(name, value) for name, value in event.items()}
    for name, value in index_keys(event["eventId"], event["status"], event["date"], shards).items():
        item[name] = {"S": value}
    return item


def from_item(item: Mapping[str, Any]) -> EventRecord:
    return {
        name: int(item[name]["N"]) if name in NUMBER_FIELDS else item[name]["S"]
        for name in PUBLIC_FIELDS
    }


@contextlib.contextmanager
def dynamodb_errors() -> Iterator[None]:
    """Turn botocore's transport and throttling failures into StoreUnavailable."""
    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _TRANSIENT_ERROR_CODES:
            raise StoreUnavailable("The event store is unavailable; retry shortly.") from error
        raise
    except ParamValidationError:
        raise
    except BotoCoreError as error:  # connection refused, timeouts, credentials
        raise StoreUnavailable("The event store is unavailable; retry shortly.") from error


def condition_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == _CONDITION_FAILED


def _item_bytes(item: Mapping[str, Any]) -> int:
    """About what DynamoDB counts as an item's size: its names and values, in bytes."""
    return sum(
        len(name.encode()) + len(str(next(iter(value.values()))).encode())
        for name, value in item.items()
    )


def _retried(error: ClientError) -> bool:
    return error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0


def _landed_earlier(error: ClientError) -> bool:
    """The SDK retried a write whose first attempt timed out but was applied all the same.

    The retry then fails its own condition against the item the first attempt wrote. The
    caller compares that item with what it wrote (timestamps to the millisecond included)
    to tell its own write from a competitor's. Without a retry a failed condition is final.
    """
    return condition_failed(error) and _retried(error) and "Item" in error.response


def _item_found(error: ClientError) -> EventRecord:
    """The item a failed condition was checked against (ReturnValuesOnConditionCheckFailure)."""
    return from_item(error.response["Item"])  # type: ignore[typeddict-item]


@dataclass
class _ShardReader:
    """One shard of the status index, read forward in batches during a page merge."""

    partition: str
    start_key: dict[str, AttributeValueTypeDef] | None
    more: bool = True
    buffer: deque[dict[str, Any]] = field(default_factory=deque)

    def head(self) -> str:
        key: str = self.buffer[0][DATE_KEY_ATTRIBUTE]["S"]
        return key


class EventStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        cursor_codec: CursorCodec,
        status_shards: int = 1,
        read_shards: int | None = None,
        request_budget: float = 10.0,
    ) -> None:
        """`status_shards` places the events written; listings read `read_shards` shards
        (at least as many), which covers both layouts while a migration changes the count."""
        self._client = client
        self._table = table_name
        self._cursors = cursor_codec
        self._shards = status_shards
        self._read_shards = max(read_shards or status_shards, status_shards)
        # The largest item of the last page read; unknown until a page has been read.
        self._item_bytes: int | None = None
        self._request_budget = request_budget
        self._pool = (
            ThreadPoolExecutor(max_workers=min(self._read_shards, 16), thread_name_prefix="shard")
            if self._read_shards > 1
            else None
        )

    @classmethod
    def from_settings(cls, settings: Settings, client: DynamoDBClient | None = None) -> EventStore:
        return cls(
            client or create_dynamodb_client(settings),
            settings.table_name,
            CursorCodec(settings.cursor_secret),
            settings.status_shards,
            settings.status_shards_to_read,
            settings.dynamodb_request_budget,
        )

    # Single items

    def create(self, fields: Mapping[str, Any]) -> EventRecord:
        now = utc_now()
        event = {**fields, "createdAt": now, "updatedAt": now, "version": 1}
        if not event.get("eventId"):
            event["eventId"] = new_event_id()
        created = {name: event[name] for name in PUBLIC_FIELDS}
        try:
            with dynamodb_errors():
                self._client.put_item(
                    TableName=self._table,
                    Item=to_item(event, self._shards),
                    ConditionExpression="attribute_not_exists(eventId)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if _landed_earlier(error) and _item_found(error) == created:
                return created
            if condition_failed(error):
                raise EventAlreadyExists(
                    f"An event with eventId {event['eventId']!r} already exists."
                ) from None
            raise
        return created

    def get(self, event_id: str) -> EventRecord:
        # Strongly consistent: a client reads back what it just wrote (its ETag included),
        # for one read unit per 4 KB instead of half of one.
        with dynamodb_errors():
            response = self._client.get_item(
                TableName=self._table, Key={PARTITION_KEY: {"S": event_id}}, ConsistentRead=True
            )
        if "Item" not in response:
            raise _not_found(event_id)
        return from_item(response["Item"])

    def update(
        self,
        event_id: str,
        changes: Mapping[str, Any],
        expected_versions: Sequence[int] | None = None,
    ) -> EventRecord:
        """Apply a partial update atomically; `version` goes up by exactly one."""
        names: dict[str, str] = {}
        values: dict[str, AttributeValueTypeDef] = {":one": {"N": "1"}, ":now": {"S": utc_now()}}
        assignments = ["version = version + :one", "updatedAt = :now"]
        for number, (name, value) in enumerate(changes.items()):
            names[f"#f{number}"] = name
            values[f":f{number}"] = _attribute(name, value)
            assignments.append(f"#f{number} = :f{number}")
        # The index keys follow status and date; both derive from values the request holds.
        if "status" in changes:
            shard = shard_of(event_id, self._shards)
            values[":shard"] = {"S": status_shard_key(changes["status"], shard)}
            assignments.append(f"{STATUS_SHARD_ATTRIBUTE} = :shard")
        if "date" in changes:
            values[":dateKey"] = {"S": date_key(changes["date"], event_id)}
            assignments.append(f"{DATE_KEY_ATTRIBUTE} = :dateKey")
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {PARTITION_KEY: {"S": event_id}},
            "UpdateExpression": "SET " + ", ".join(assignments),
            "ConditionExpression": self._write_condition(expected_versions, values),
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            with dynamodb_errors():
                response = self._client.update_item(**request)
        except ClientError as error:
            if _landed_earlier(error):
                current = _item_found(error)
                if (
                    current["updatedAt"] == values[":now"]["S"]
                    and changes.items() <= current.items()
                ):
                    return current
            raise self._write_refused(error, event_id) from None
        return from_item(response["Attributes"])

    def delete(self, event_id: str, expected_versions: Sequence[int] | None = None) -> None:
        values: dict[str, AttributeValueTypeDef] = {}
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {PARTITION_KEY: {"S": event_id}},
            "ConditionExpression": self._write_condition(expected_versions, values),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            with dynamodb_errors():
                self._client.delete_item(**request)
        except ClientError as error:
            if condition_failed(error) and _retried(error) and "Item" not in error.response:
                return  # an earlier attempt of this very call deleted it
            raise self._write_refused(error, event_id) from None

    @staticmethod
    def _write_condition(
        expected_versions: Sequence[int] | None, values: dict[str, AttributeValueTypeDef]
    ) -> str:
        condition = f"attribute_exists({PARTITION_KEY})"
        if expected_versions is not None:
            placeholders = []
            for number, version in enumerate(expected_versions):
                values[f":expected{number}"] = {"N": str(version)}
                placeholders.append(f":expected{number}")
            condition += f" AND version IN ({', '.join(placeholders)})"
        return condition

    @staticmethod
    def _write_refused(error: ClientError, event_id: str) -> Exception:
        if not condition_failed(error):
            return error
        if "Item" in error.response:
            current = error.response["Item"]["version"]["N"]  # type: ignore[typeddict-item]
            return VersionMismatch(
                f"Event {event_id!r} is at version {current}; If-Match did not match it."
            )
        return _not_found(event_id)

    # Listing

    def list_events(
        self,
        *,
        status: str | None,
        limit: int,
        cursor: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Page:
        deadline = time.monotonic() + self._request_budget
        if status is None:
            return self._scan_page(limit, self._resume(cursor, None), deadline)
        # The cursor does not bind the shard count: its position means the same in any layout.
        query = [status, date_from, date_to]
        return self._status_page(query, limit, self._resume(cursor, query), deadline)

    def _resume(self, cursor: str | None, query: list[Any] | None) -> Any:
        """The position a cursor carries, after checking it belongs to this very query."""
        if cursor is None:
            return None
        state = self._cursors.decode(cursor)
        if state.get("v") != CURSOR_VERSION or state.get("q") != query or "p" not in state:
            raise InvalidCursor(
                "The cursor belongs to a different listing (other status or dates) or to an "
                "earlier version of the API; start again without a cursor."
            )
        return state["p"]

    def _next_cursor(self, query: list[Any] | None, position: Any) -> str:
        return self._cursors.encode({"v": CURSOR_VERSION, "q": query, "p": position})

    def _scan_page(self, limit: int, after: Any, deadline: float) -> Page:
        if after is not None and not isinstance(after, str):
            raise InvalidCursor("The cursor was not issued by this API or has been altered.")
        start_key = {PARTITION_KEY: {"S": after}} if after else None
        items: list[dict[str, Any]] = []
        # One item beyond the page tells whether a next page exists, so the last page
        # has a null cursor instead of leading to an empty page.
        while len(items) <= limit:
            request: dict[str, Any] = {"TableName": self._table, "Limit": limit + 1 - len(items)}
            if start_key:
                _before_another_call(deadline)
                request["ExclusiveStartKey"] = start_key
            with dynamodb_errors():
                response = self._client.scan(**request)
            items.extend(response.get("Items", []))
            start_key = response.get("LastEvaluatedKey")  # type: ignore[assignment]
            if not start_key:
                break
        page = [from_item(item) for item in items[:limit]]
        more = len(items) > limit or bool(start_key)
        return Page(page, self._next_cursor(None, page[-1]["eventId"]) if more and page else None)

    def _status_page(self, query: list[Any], limit: int, after: Any, deadline: float) -> Page:
        """Merge the shards of one status in (date, eventId) order.

        The merge puts index keys on the page in global order, so the last key shown is
        the whole cursor: every shard resumes after it, whatever the shard count. Inserts
        behind it stay unseen and inserts ahead of it show up once, in order, as on an
        unsharded index. Each shard is read only while its next item could still belong on
        the page, in batches sized by `_batch_size`.
        """
        status, date_from, date_to = query
        if after is not None and not (isinstance(after, str) and DATE_KEY_SEPARATOR in after):
            raise InvalidCursor("The cursor was not issued by this API or has been altered.")
        key_condition, values = _key_condition(date_from, date_to)
        readers = []
        for shard in range(self._read_shards):
            partition = status_shard_key(status, shard)
            start_key: dict[str, AttributeValueTypeDef] | None = None
            if after is not None:
                start_key = {
                    PARTITION_KEY: {"S": after.split(DATE_KEY_SEPARATOR, 1)[1]},
                    STATUS_SHARD_ATTRIBUTE: {"S": partition},
                    DATE_KEY_ATTRIBUTE: {"S": after},
                }
            readers.append(_ShardReader(partition, start_key))

        def read(reader: _ShardReader, batch: int) -> None:
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": key_condition,
                "ExpressionAttributeValues": {":shard": {"S": reader.partition}, **values},
                "Limit": batch,
            }
            if reader.start_key:
                request["ExclusiveStartKey"] = reader.start_key
            with dynamodb_errors():
                response = self._client.query(**request)
            reader.buffer.extend(response.get("Items", []))
            reader.start_key = response.get("LastEvaluatedKey")
            reader.more = reader.start_key is not None

        page: list[dict[str, Any]] = []
        readers_called = False
        while len(page) < limit:
            empty = [r for r in readers if not r.buffer and r.more]
            if empty:
                if readers_called:
                    _before_another_call(deadline)
                readers_called = True
                live = sum(1 for r in readers if r.buffer or r.more)
                self._read_all(read, empty, self._batch_size(limit - len(page), live))
                continue
            candidates = [r for r in readers if r.buffer]
            if not candidates:
                break
            item = min(candidates, key=_ShardReader.head).buffer.popleft()
            page.append(item)
            # While a migration moves an event, the index can show it in two shards for a
            # moment (index updates propagate asynchronously): the copies are adjacent.
            for reader in readers:
                if reader.buffer and reader.head() == item[DATE_KEY_ATTRIBUTE]["S"]:
                    reader.buffer.popleft()
        # One item beyond the page, from any shard, proves there is a next page. Past the
        # budget the look-ahead is skipped: the cursor then may lead to an empty last page.
        if not any(r.buffer for r in readers) and time.monotonic() < deadline:
            self._read_all(read, [r for r in readers if r.more], 1)
        if page:
            self._item_bytes = max(_item_bytes(item) for item in page)

        next_cursor = None
        if page and any(r.buffer or r.more for r in readers):
            next_cursor = self._next_cursor(query, page[-1][DATE_KEY_ATTRIBUTE]["S"])
        return Page([from_item(item) for item in page], next_cursor)

    def _batch_size(self, remaining: int, live_shards: int) -> int:
        """Items to read from a shard: its share of the rest of the page plus one look-ahead,
        rounded up to fill the read units that share is billed anyway (sized by the largest
        item of the last page), so a shard rarely needs a second call; never more than the
        page could use."""
        share = -(-remaining // live_shards) + 1
        if self._item_bytes is None:
            return share
        units = -(-share * self._item_bytes // READ_UNIT_BYTES)
        return min(max(share, units * READ_UNIT_BYTES // self._item_bytes), remaining + 1)

    def _read_all(
        self, read: Callable[[_ShardReader, int], None], readers: list[_ShardReader], batch: int
    ) -> None:
        if self._pool is None or len(readers) <= 1:
            for reader in readers:
                read(reader, batch)
            return
        # Shards are independent partitions: read them side by side.
        for _ in self._pool.map(lambda reader: read(reader, batch), readers):
            pass


def _key_condition(
    date_from: str | None, date_to: str | None
) -> tuple[str, dict[str, AttributeValueTypeDef]]:
    condition = f"{STATUS_SHARD_ATTRIBUTE} = :shard"
    values: dict[str, AttributeValueTypeDef] = {}
    if date_from is not None:
        values[":from"] = {"S": date_from}
    if date_to is not None:
        # "<to>$" sorts after every "<to>#<eventId>" key, which keeps `to` inclusive.
        values[":to"] = {"S": date_to + DATE_KEY_UPPER}
    if date_from is not None and date_to is not None:
        condition += f" AND {DATE_KEY_ATTRIBUTE} BETWEEN :from AND :to"
    elif date_from is not None:
        condition += f" AND {DATE_KEY_ATTRIBUTE} >= :from"
    elif date_to is not None:
        condition += f" AND {DATE_KEY_ATTRIBUTE} < :to"
    return condition, values


def _before_another_call(deadline: float) -> None:
    """A request that already spent its budget makes no further DynamoDB call."""
    if time.monotonic() >= deadline:
        raise StoreUnavailable("The event store is answering too slowly; retry shortly.")


def _not_found(event_id: str) -> EventNotFound:
    return EventNotFound(f"No event with eventId {event_id!r}.")
