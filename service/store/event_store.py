"""EventStore: the API's single-item reads and writes, each conditional, and its listings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Unpack

from service.cursor import CursorCodec
from service.errors import EventAlreadyExists, EventNotFound, VersionMismatch
from service.store.client import ConditionFailed, create_dynamodb_client, dynamodb_errors
from service.store.idempotency import Created, KeyedCreates
from service.store.items import (
    EventRecord,
    attribute,
    from_item,
    new_event,
    to_item,
    utc_now,
)
from service.store.listing import EventListing, ListingQuery, Page
from service.store.rehearsal import rehearsal
from service.table import (
    DATE_KEY_ATTRIBUTE,
    PARTITION_KEY,
    STATUS_SHARD_ATTRIBUTE,
    date_key,
    keys_table_name,
    shard_of,
    shards_to_read,
    status_shard_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from service.settings import Settings


def _landed_earlier(failed: ConditionFailed) -> EventRecord | None:
    """The item an earlier attempt of this very call wrote, when that is what the condition
    failed against.

    The SDK retries a write whose first attempt timed out but was applied all the same; the
    retry then fails its own condition against that item. The caller compares it with what
    it wrote (timestamps to the millisecond included) to tell its own write from a
    competitor's. Without a retry a failed condition is final.
    """
    if failed.retried and failed.item is not None:
        return from_item(failed.item)
    return None


class EventStore:
    """Every DynamoDB read and write the API makes, for one table."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        cursor_codec: CursorCodec,
        status_shards: int = 1,
        read_shards: int | None = None,
        request_budget: float = 10.0,
        keys_table: str | None = None,
        key_ttl: int = 24 * 3600,
    ) -> None:
        """`status_shards` places the events written; listings read `read_shards` shards
        (at least as many), which covers both layouts while a migration changes the count."""
        self._client = client
        self._table = table_name
        self._shards = status_shards
        self._listing = EventListing(
            client,
            table_name,
            cursor_codec,
            shards_to_read(status_shards, read_shards),
            request_budget,
        )
        # Creates with an Idempotency-Key: event and key record in one transaction.
        self.keyed_creates = KeyedCreates(
            client, table_name, keys_table or keys_table_name(table_name), status_shards, key_ttl
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
            settings.keys_table_name,
            settings.idempotency_key_ttl,
        )

    def rehearsal(self, record: EventRecord) -> AbstractContextManager[None]:
        """Inside, every call this store makes is answered in the process as a success that
        finds `record`, and none reaches DynamoDB: SnapStart's warm-up runs the success
        paths with it (`service.store.rehearsal`)."""
        return rehearsal(self._client, record, self._shards)

    # Single items

    def create(self, fields: Mapping[str, Any]) -> EventRecord:
        created = new_event(fields)
        try:
            with dynamodb_errors():
                self._client.put_item(
                    TableName=self._table,
                    Item=to_item(created, self._shards),
                    ConditionExpression="attribute_not_exists(eventId)",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ConditionFailed as failed:
            if _landed_earlier(failed) == created:
                return created
            raise EventAlreadyExists(
                f"An event with eventId {created['eventId']!r} already exists."
            ) from None
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
            values[f":f{number}"] = attribute(name, value)
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
        except ConditionFailed as failed:
            current = _landed_earlier(failed)
            if (
                current is not None
                and current["updatedAt"] == values[":now"]["S"]
                and changes.items() <= current.items()
            ):
                return current
            raise _write_refused(failed, event_id) from None
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
        except ConditionFailed as failed:
            if failed.retried and failed.item is None:
                return  # an earlier attempt of this very call deleted it
            raise _write_refused(failed, event_id) from None

    # Listings: a paged Scan, or the status index's shards merged (service/store/listing.py).

    def list_events(self, **query: Unpack[ListingQuery]) -> Page:
        """One page of events and the next page's cursor: see `EventListing.page`."""
        return self._listing.page(**query)

    def create_with_key(self, scope: str, key: str, fields: Mapping[str, Any]) -> Created:
        """Create once per (scope, Idempotency-Key): see `KeyedCreates.create`."""
        return self.keyed_creates.create(scope, key, fields)

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


def _write_refused(failed: ConditionFailed, event_id: str) -> EventNotFound | VersionMismatch:
    """An update or delete whose condition failed: the event exists at another version, or
    does not exist."""
    if failed.item is None:
        return _not_found(event_id)
    return VersionMismatch.at(event_id, failed.item["version"]["N"])


def _not_found(event_id: str) -> EventNotFound:
    return EventNotFound(f"No event with eventId {event_id!r}.")
