"""The events table: one definition read by the store, the local tooling and the Pulumi program.

Items are keyed by `eventId`. The status index is write-sharded: its partition key is
`<status>#<shard>` with the shard a stable hash of the eventId, so no single index
partition takes every write of one status (a GSI partition key value tops out around
1,000 writes per second). Its sort key is `<date>#<eventId>`, which orders a shard by
date then eventId and lets a date range be a key condition. See docs/scaling.md.
"""

from __future__ import annotations

import hashlib
from typing import Any

PARTITION_KEY = "eventId"
STATUS_INDEX = "status-date-index"
STATUS_SHARD_ATTRIBUTE = "statusShard"
DATE_KEY_ATTRIBUTE = "dateEventId"
INDEX_ATTRIBUTES = (STATUS_SHARD_ATTRIBUTE, DATE_KEY_ATTRIBUTE)

DEFAULT_STATUS_SHARDS = 4
MAX_STATUS_SHARDS = 64

# Separates date and eventId in the index sort key. It sorts below every character an
# eventId may hold, so "<date>#<id>" keys order by date first, then eventId.
DATE_KEY_SEPARATOR = "#"
# Sorts just above DATE_KEY_SEPARATOR: "<date>$" is an upper bound for every key of that date.
DATE_KEY_UPPER = "$"


def shard_of(event_id: str, shards: int) -> int:
    """The status-index shard of an event: stable across processes and Python versions."""
    if shards == 1:
        return 0
    digest = hashlib.blake2b(event_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def shards_to_read(written: int, read: int | None = None) -> int:
    """The shards a listing reads: those written to, or more while a migration changes the
    count (docs/scaling.md); None reads those written to."""
    if read is None:
        return written
    if read < written:
        raise ValueError(
            f"reading {read} shards while {written} are written would miss events: "
            "a listing must read at least the shards being written"
        )
    return read


def status_shard_key(status: str, shard: int) -> str:
    return f"{status}#{shard}"


def date_key(date: str, event_id: str) -> str:
    return f"{date}{DATE_KEY_SEPARATOR}{event_id}"


def index_keys(event_id: str, status: str, date: str, shards: int) -> dict[str, str]:
    """The index attributes an item must carry, as plain strings."""
    return {
        STATUS_SHARD_ATTRIBUTE: status_shard_key(status, shard_of(event_id, shards)),
        DATE_KEY_ATTRIBUTE: date_key(date, event_id),
    }


def create_table_request(table_name: str) -> dict[str, Any]:
    """The CreateTable request for the events table, in the DynamoDB API's own shape.

    Infra translates this same structure into Pulumi arguments, and a test compares the two.
    """
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": STATUS_SHARD_ATTRIBUTE, "AttributeType": "S"},
            {"AttributeName": DATE_KEY_ATTRIBUTE, "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": STATUS_INDEX,
                "KeySchema": [
                    {"AttributeName": STATUS_SHARD_ATTRIBUTE, "KeyType": "HASH"},
                    {"AttributeName": DATE_KEY_ATTRIBUTE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


# Idempotency keys live in a table of their own: a record in the events table would be
# read by every Scan (short pages, or extra calls and units to refill them) and by every
# operator command that walks the events. See service/store/idempotency.py.
KEYS_TABLE_SUFFIX = "-idempotency-keys"
KEY_ATTRIBUTE = "idempotencyKey"
# Epoch seconds: the table's TTL attribute (DynamoDB deletes the record some time after).
KEY_EXPIRY_ATTRIBUTE = "expiresAt"


def keys_table_name(events_table: str) -> str:
    """The idempotency-key table that goes with an events table, unless configured apart."""
    return f"{events_table}{KEYS_TABLE_SUFFIX}"


def create_keys_table_request(table_name: str) -> dict[str, Any]:
    """The CreateTable request for the idempotency-key table (its TTL is set apart:
    UpdateTimeToLive, or the Pulumi table's `ttl`)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
    }
