"""Creates made exactly once per `Idempotency-Key`: the event and its key record in one
DynamoDB transaction.

The record (in the keys table of `service.table`) holds a hash of the request and the
event the create answered with, so a later request with the same key and body is answered
from it, byte for byte, without writing anything. The event's Put and the record's Put go
in one TransactWriteItems: both are stored or neither is, so no crash can leave an event
without its key or a key without its event.

- The record's condition is "no record, or an expired one". A twin request that lost the
  race has its whole transaction cancelled, and DynamoDB hands back the winner's record
  (ReturnValuesOnConditionCheckFailure): the answer, with no second read.
- A twin that meets the winner's transaction still in progress is cancelled with
  TransactionConflict: that is the "in flight" answer, 409 with Retry-After.
- The SDK's own retries of the call reuse its ClientRequestToken, which DynamoDB honours
  for 10 minutes: a retry of a transaction that was applied succeeds without applying it
  again, so it is not mistaken for a replay.
- DynamoDB's TTL deletes expired records only eventually (typically within days), so an
  expired record counts as absent here, by the record's own expiry time.

Cost: a transaction bills each item it writes twice, so a keyed create costs 2 x (event
units + record units) write units against the plain create's event units (bench/idempotency.py
measures them).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from service.errors import (
    EventAlreadyExists,
    IdempotencyKeyReused,
    IdempotentRequestInFlight,
    StoreUnavailable,
)
from service.store.client import TransactionCancelled, dynamodb_errors, unexpected
from service.store.items import EventRecord, new_event, to_item
from service.table import KEY_ATTRIBUTE, KEY_EXPIRY_ATTRIBUTE, PARTITION_KEY

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# Cancellation reasons of a transaction that a later retry may well get past.
_TRANSIENT_REASONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)


class Created(NamedTuple):
    event: EventRecord
    replayed: bool
    """True when the event comes from an earlier request's record, nothing written now."""


def request_hash(fields: Mapping[str, Any]) -> str:
    """The fingerprint of a create: its validated fields as canonical JSON, hashed. Two
    bodies that mean the same event (key order, spacing, escapes) have the same one."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_key(scope: str, key: str) -> str:
    """The record's partition key. The key is visible ASCII with no space, so everything
    after the last space is the key and two (scope, key) pairs never share a record."""
    return f"{scope} {key}"


def key_record(
    partition_key: str, fingerprint: str, event: EventRecord, expires: int
) -> dict[str, AttributeValueTypeDef]:
    """The item that remembers a create: what it was asked, what it answered, until when."""
    return {
        KEY_ATTRIBUTE: {"S": partition_key},
        "requestHash": {"S": fingerprint},
        "event": {"S": json.dumps(event, ensure_ascii=False)},
        KEY_EXPIRY_ATTRIBUTE: {"N": str(expires)},
    }


class KeyedCreates:
    """Creates with an idempotency key, on one events table and one keys table."""

    def __init__(
        self,
        client: DynamoDBClient,
        events_table: str,
        keys_table: str,
        status_shards: int,
        key_ttl: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._events = events_table
        self._keys = keys_table
        self._shards = status_shards
        self._ttl = key_ttl
        # Seconds since the epoch, as TTL counts them; tests move it to expire keys.
        self.clock = clock

    def create(self, scope: str, key: str, fields: Mapping[str, Any]) -> Created:
        """Create the event once for this scope and key; later twins get the first answer."""
        event = new_event(fields)
        fingerprint = request_hash(fields)
        now = int(self.clock())
        record = key_record(record_key(scope, key), fingerprint, event, now + self._ttl)
        try:
            with dynamodb_errors():
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._events,
                                "Item": to_item(event, self._shards),
                                "ConditionExpression": f"attribute_not_exists({PARTITION_KEY})",
                            }
                        },
                        {
                            "Put": {
                                "TableName": self._keys,
                                "Item": record,
                                "ConditionExpression": "attribute_not_exists(#key) "
                                "OR #expires <= :now",
                                "ExpressionAttributeNames": {
                                    "#key": KEY_ATTRIBUTE,
                                    "#expires": KEY_EXPIRY_ATTRIBUTE,
                                },
                                "ExpressionAttributeValues": {":now": {"N": str(now)}},
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                            }
                        },
                    ]
                )
        except TransactionCancelled as cancelled:
            return _first_answer(cancelled, key, fingerprint, event["eventId"])
        return Created(event, replayed=False)


def _first_answer(
    cancelled: TransactionCancelled, key: str, fingerprint: str, event_id: str
) -> Created:
    """The answer to a create whose transaction was cancelled: the first twin's, or why not."""
    if cancelled.in_progress:
        # The SDK's retries found this very call's first attempt still being applied.
        raise _in_flight(key) from None
    reasons = cancelled.reasons
    codes = [reason.get("Code") for reason in reasons]
    if len(codes) != 2:
        raise unexpected(cancelled, f"TransactionCanceledException {codes}")
    # The record comes back only when its condition failed: a live record holds the key.
    found = reasons[1].get("Item")
    if found is not None:
        if found["requestHash"]["S"] != fingerprint:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was used for a request with another body; "
                "send a new key for a new request."
            ) from None
        return Created(json.loads(found["event"]["S"]), replayed=True)
    if "TransactionConflict" in codes:
        raise _in_flight(key) from None
    if codes[0] == "ConditionalCheckFailed":
        raise EventAlreadyExists(f"An event with eventId {event_id!r} already exists.") from None
    if _TRANSIENT_REASONS.intersection(codes):
        raise StoreUnavailable("The event store is unavailable; retry shortly.") from cancelled
    raise unexpected(cancelled, f"TransactionCanceledException {codes}")


def _in_flight(key: str) -> IdempotentRequestInFlight:
    return IdempotentRequestInFlight(
        f"A request with Idempotency-Key {key!r} is being processed; retry shortly for its answer."
    )
