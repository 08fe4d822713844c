"""Pages of events: a paged Scan, or a merge of the status index's shards in date order."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NamedTuple, Required, TypedDict

from service.cursor import CursorCodec
from service.errors import InvalidCursor, StoreUnavailable
from service.store.client import dynamodb_errors
from service.store.items import EventRecord, from_item, item_bytes
from service.store.merge import Shard, ShardMerge
from service.table import (
    DATE_KEY_ATTRIBUTE,
    DATE_KEY_SEPARATOR,
    DATE_KEY_UPPER,
    PARTITION_KEY,
    STATUS_INDEX,
    STATUS_SHARD_ATTRIBUTE,
    status_shard_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# 2: a status listing's cursor holds one index key, not one position per shard.
CURSOR_VERSION = 2
# A Query is billed per 4 KB read, rounded up per call (0.5 RCU eventually consistent), and
# each call pays at least one unit: items that fit in the unit a shard read pays for anyway
# cost nothing, and every extra round trip costs a unit.
READ_UNIT_BYTES = 4096


class Page(NamedTuple):
    items: list[EventRecord]
    next_cursor: str | None


class Deadline:
    """One request's budget for DynamoDB calls (Settings.dynamodb_request_budget), started
    when the page's reads start."""

    def __init__(self, budget: float) -> None:
        self._end = time.monotonic() + budget

    def spent(self) -> bool:
        return time.monotonic() >= self._end

    def before_another_call(self) -> None:
        """A request that already spent its budget makes no further DynamoDB call (the
        first call always goes: the budget is positive and starts with the page)."""
        if self.spent():
            raise StoreUnavailable("The event store is answering too slowly; retry shortly.")


class ListingQuery(TypedDict, total=False):
    """The arguments of `EventListing.page`, for the code that passes them on."""

    status: Required[str | None]
    limit: Required[int]
    cursor: str | None
    date_from: str | None
    date_to: str | None


class EventListing:
    """The store's listings of one table: pages, each within its request's DynamoDB budget."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        cursor_codec: CursorCodec,
        read_shards: int,
        request_budget: float,
    ) -> None:
        self._client = client
        self._table = table_name
        self._cursors = cursor_codec
        self._read_shards = read_shards
        self._request_budget = request_budget
        # The largest item of the last page read; unknown until a page has been read.
        self._item_bytes: int | None = None
        self._pool = (
            ThreadPoolExecutor(max_workers=min(read_shards, 16), thread_name_prefix="shard")
            if read_shards > 1
            else None
        )

    def page(
        self,
        *,
        status: str | None,
        limit: int,
        cursor: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> Page:
        deadline = Deadline(self._request_budget)
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

    def _scan_page(self, limit: int, after: Any, deadline: Deadline) -> Page:
        if after is not None and not isinstance(after, str):
            raise InvalidCursor("The cursor was not issued by this API or has been altered.")
        start_key = {PARTITION_KEY: {"S": after}} if after else None
        items: list[dict[str, Any]] = []
        # One item beyond the page tells whether a next page exists, so the last page
        # has a null cursor instead of leading to an empty page.
        while len(items) <= limit:
            request: dict[str, Any] = {"TableName": self._table, "Limit": limit + 1 - len(items)}
            deadline.before_another_call()
            if start_key:
                request["ExclusiveStartKey"] = start_key
            with dynamodb_errors():
                response = self._client.scan(**request)
            items.extend(response.get("Items", []))
            start_key = response.get("LastEvaluatedKey")  # type: ignore[assignment]
            if not start_key:
                break
        # The loop ends with the look-ahead item read, or with the table read to its end.
        page = [from_item(item) for item in items[:limit]]
        more = len(items) > limit
        return Page(page, self._next_cursor(None, page[-1]["eventId"]) if more and page else None)

    def _status_page(self, query: list[Any], limit: int, after: Any, deadline: Deadline) -> Page:
        """Merge the shards of one status in (date, eventId) order.

        The merge puts index keys on the page in global order, so the last key shown is
        the whole cursor: every shard resumes after it, whatever the shard count. Inserts
        behind it stay unseen and inserts ahead of it show up once, in order, as on an
        unsharded index. Shards are read in batches sized by `_batch_size`.
        """
        status, date_from, date_to = query
        if after is not None and not (isinstance(after, str) and DATE_KEY_SEPARATOR in after):
            raise InvalidCursor("The cursor was not issued by this API or has been altered.")
        read = self._shard_reader(*_key_condition(date_from, date_to))
        merge = ShardMerge(
            [_shard(status_shard_key(status, n), after) for n in range(self._read_shards)]
        )

        def refill(dry: list[Shard], wanted: int, live: int) -> None:
            deadline.before_another_call()
            self._read_all(read, dry, self._batch_size(wanted, live))

        page = merge.page(limit, refill)
        # One item beyond the page, from any shard, proves there is a next page. Past the
        # budget the look-ahead is skipped: the cursor then may lead to an empty last page.
        if not merge.buffered() and not deadline.spent():
            self._read_all(read, merge.unfinished(), 1)
        if page:
            self._item_bytes = max(item_bytes(item) for item in page)
        next_cursor = None
        if page and merge.has_more():
            next_cursor = self._next_cursor(query, page[-1][DATE_KEY_ATTRIBUTE]["S"])
        return Page([from_item(item) for item in page], next_cursor)

    def _shard_reader(
        self, key_condition: str, values: dict[str, AttributeValueTypeDef]
    ) -> Callable[[Shard, int], None]:
        """Reads the next batch of one shard of the status index, for one query."""

        def read(shard: Shard, batch: int) -> None:
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": key_condition,
                "ExpressionAttributeValues": {":shard": {"S": shard.partition}, **values},
                "Limit": batch,
            }
            if shard.start_key:
                request["ExclusiveStartKey"] = shard.start_key
            with dynamodb_errors():
                response = self._client.query(**request)
            shard.received(response.get("Items", []), response.get("LastEvaluatedKey"))

        return read

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
        self, read: Callable[[Shard, int], None], shards: list[Shard], batch: int
    ) -> None:
        if self._pool is None or len(shards) <= 1:
            for shard in shards:
                read(shard, batch)
            return
        # Shards are independent partitions: read them side by side.
        for _ in self._pool.map(lambda shard: read(shard, batch), shards):
            pass


def _shard(partition: str, after: str | None) -> Shard:
    """A shard to merge, from the start or from just after the cursor's index key."""
    if after is None:
        return Shard(partition)
    return Shard(
        partition,
        {
            PARTITION_KEY: {"S": after.split(DATE_KEY_SEPARATOR, 1)[1]},
            STATUS_SHARD_ATTRIBUTE: {"S": partition},
            DATE_KEY_ATTRIBUTE: {"S": after},
        },
    )


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
