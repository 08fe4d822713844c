"""EventStore: the API's single-item reads and writes, each conditional, and its listings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from service.cursor import CursorCodec
from service.errors import EventAlreadyExists, EventNotFound, VersionMismatch
from service.store.client import condition_failed, create_dynamodb_client, dynamodb_errors
from service.store.idempotency import KeyedCreates
from service.store.items import (
    EventRecord,
    attribute,
    from_item,
    new_event,
    to_item,
    utc_now,
)
from service.store.listing import EventListing
from service.table import (
    DATE_KEY_ATTRIBUTE,
    PARTITION_KEY,
    STATUS_SHARD_ATTRIBUTE,
    date_key,
    keys_table_name,
    shard_of,
    status_shard_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from service.settings import Settings


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
            max(read_shards or status_shards, status_shards),
            request_budget,
        )
        # Listings: a paged Scan, or the status index's shards merged (service/store/listing.py).
        self.list_events = self._listing.page
        # Creates with an Idempotency-Key: event and key record in one transaction.
        self.keyed_creates = KeyedCreates(
            client, table_name, keys_table or keys_table_name(table_name), status_shards, key_ttl
        )
        self.create_with_key = self.keyed_creates.create

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
        except ClientError as error:
            if _landed_earlier(error) and _item_found(error) == created:
                return created
            if condition_failed(error):
                raise EventAlreadyExists(
                    f"An event with eventId {created['eventId']!r} already exists."
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


def _not_found(event_id: str) -> EventNotFound:
    return EventNotFound(f"No event with eventId {event_id!r}.")
