"""TableAdmin: the operator's DynamoDB calls, kept apart from the deployed function's.

Operator commands (`seed`, `migrate_shards`, the benchmarks and test loaders) run with the
operator's credentials, never in the function: the Dockerfile leaves `tools/` out
of the image. So the function's least-privilege policy, which grants exactly the calls
`service.store` makes, never grants BatchWriteItem, BatchGetItem or DescribeTable.
Items are written and read with `service.store`'s own helpers (`to_item`, `from_item`,
`dynamodb_errors`), so an event stored here is the event the API reads.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from service.errors import StoreUnavailable
from service.store import (
    PUBLIC_FIELDS,
    ConditionFailed,
    create_dynamodb_client,
    dynamodb_errors,
    to_item,
)
from service.table import PARTITION_KEY, STATUS_SHARD_ATTRIBUTE, shard_of, status_shard_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from service.settings import Settings

# BatchWriteItem takes at most 25 puts, BatchGetItem at most 100 keys. Either may hand
# back part of a request as Unprocessed* under throttling: resend those with backoff.
BATCH_WRITE_SIZE = 25
BATCH_GET_SIZE = 100
BATCH_ATTEMPTS = 8
BATCH_BACKOFF_SECONDS = 0.05
BATCH_BACKOFF_CAP_SECONDS = 2.0


class ShardMove(NamedTuple):
    """An event whose status-index shard is not the one this layout gives it."""

    event_id: str
    current: str
    target: str


class MisplacedBatch(NamedTuple):
    scanned: int
    moves: list[ShardMove]
    next_position: str | None
    """Where the next batch starts (an eventId); None once the scan is complete."""


class TableAdmin:
    def __init__(self, client: DynamoDBClient, table_name: str, status_shards: int) -> None:
        """`status_shards` is the layout events are written in, and checked against."""
        self._client = client
        self._table = table_name
        self._shards = status_shards

    @classmethod
    def from_settings(cls, settings: Settings) -> TableAdmin:
        return cls(create_dynamodb_client(settings), settings.table_name, settings.status_shards)

    # Loading

    def put_items(self, items: Sequence[Mapping[str, AttributeValueTypeDef]]) -> None:
        """Write whole items as they are, overwriting any with the same key."""
        for start in range(0, len(items), BATCH_WRITE_SIZE):
            requests = [
                {"PutRequest": {"Item": item}} for item in items[start : start + BATCH_WRITE_SIZE]
            ]
            _until_processed(
                self._client.batch_write_item, {self._table: requests}, "UnprocessedItems"
            )

    def put_many(self, events: Iterable[Mapping[str, Any]]) -> int:
        """Store whole events (server fields included) whose eventId is not taken yet.

        Put-if-absent in batches: BatchWriteItem cannot carry a condition, so a
        consistent BatchGetItem first finds the ids already stored, and those events
        are left exactly as they are. Returns how many events were written.
        """
        pending: dict[str, Mapping[str, Any]] = {}
        for event in events:
            if set(event) != set(PUBLIC_FIELDS):
                raise ValueError(f"An event needs exactly the fields {', '.join(PUBLIC_FIELDS)}.")
            if event["eventId"] in pending:
                raise ValueError(f"eventId {event['eventId']!r} appears twice.")
            pending[event["eventId"]] = event
        taken = self._stored_ids(list(pending))
        items = [
            to_item(event, self._shards)
            for event_id, event in pending.items()
            if event_id not in taken
        ]
        self.put_items(items)
        return len(items)

    def _stored_ids(self, event_ids: list[str]) -> set[str]:
        stored: set[str] = set()
        for start in range(0, len(event_ids), BATCH_GET_SIZE):
            request = {
                self._table: {
                    "Keys": [
                        {PARTITION_KEY: {"S": event_id}}
                        for event_id in event_ids[start : start + BATCH_GET_SIZE]
                    ],
                    "ProjectionExpression": PARTITION_KEY,
                    "ConsistentRead": True,
                }
            }
            for response in _until_processed(
                self._client.batch_get_item, request, "UnprocessedKeys"
            ):
                for item in response.get("Responses", {}).get(self._table, []):
                    stored.add(item[PARTITION_KEY]["S"])
        return stored

    # Resharding: tools/migrate_shards.py drives these to change the shard count.

    def find_misplaced(
        self, *, after: str | None, limit: int, segment: int = 0, segments: int = 1
    ) -> MisplacedBatch:
        """Scan one batch of the table for events whose shard is not this layout's.

        `segment` of `segments` splits the scan so several workers can share it.
        """
        request: dict[str, Any] = {
            "TableName": self._table,
            "Limit": limit,
            "ProjectionExpression": "#id, #status, #shard",
            "ExpressionAttributeNames": {
                "#id": PARTITION_KEY,
                "#status": "status",
                "#shard": STATUS_SHARD_ATTRIBUTE,
            },
        }
        if segments > 1:
            request["Segment"], request["TotalSegments"] = segment, segments
        if after is not None:
            request["ExclusiveStartKey"] = {PARTITION_KEY: {"S": after}}
        with dynamodb_errors():
            response = self._client.scan(**request)
        items = response.get("Items", [])
        moves = []
        for item in items:
            event_id = item[PARTITION_KEY]["S"]
            current = item[STATUS_SHARD_ATTRIBUTE]["S"]
            target = status_shard_key(item["status"]["S"], shard_of(event_id, self._shards))
            if current != target:
                moves.append(ShardMove(event_id, current, target))
        last_key = response.get("LastEvaluatedKey")
        return MisplacedBatch(len(items), moves, last_key[PARTITION_KEY]["S"] if last_key else None)

    def move_shard(self, move: ShardMove) -> bool:
        """Give one event its new shard; False if it changed or vanished since it was scanned.

        The write happens only while the event still has the shard that was scanned, so a
        deleted event stays deleted and an update's newer index keys win. `version` and
        `updatedAt` stay: the event itself does not change, and clients' ETags stay valid.
        """
        try:
            with dynamodb_errors():
                self._client.update_item(
                    TableName=self._table,
                    Key={PARTITION_KEY: {"S": move.event_id}},
                    UpdateExpression=f"SET {STATUS_SHARD_ATTRIBUTE} = :target",
                    ConditionExpression=f"{STATUS_SHARD_ATTRIBUTE} = :current",
                    ExpressionAttributeValues={
                        ":target": {"S": move.target},
                        ":current": {"S": move.current},
                    },
                )
        except ConditionFailed:
            return False
        return True

    def approximate_item_count(self) -> int:
        """The table's item count as DynamoDB reports it (refreshed about every six hours)."""
        with dynamodb_errors():
            table = self._client.describe_table(TableName=self._table)["Table"]
        return table.get("ItemCount", 0)


def _until_processed(
    send: Callable[..., Any], requests: Mapping[str, Any], unprocessed: str
) -> list[Any]:
    """Send a batch request, then resend what DynamoDB left unprocessed, with backoff."""
    responses = []
    for attempt in range(BATCH_ATTEMPTS):
        with dynamodb_errors():
            response = send(RequestItems=requests)
        responses.append(response)
        requests = response.get(unprocessed) or {}
        if not requests:
            return responses
        # Full jitter (AWS's backoff advice), so parallel loaders do not retry in step.
        ceiling = min(BATCH_BACKOFF_CAP_SECONDS, BATCH_BACKOFF_SECONDS * 2**attempt)
        time.sleep(random.uniform(0, ceiling))  # noqa: S311 - timing, not security
    raise StoreUnavailable(
        f"DynamoDB left part of a batch unprocessed after {BATCH_ATTEMPTS} attempts; retry shortly."
    )
