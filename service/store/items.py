"""An event as a DynamoDB item, and back: attribute types, index keys, timestamps."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from service.models import PUBLIC_FIELDS as PUBLIC_FIELDS  # the public shape, from the model
from service.table import index_keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

EventRecord = dict[str, Any]
"""An event as the API shows it: camelCase keys, exactly the public fields."""

NUMBER_FIELDS = ("capacity", "version")


def rfc3339(moment: dt.datetime) -> str:
    """The API's timestamp form: UTC, milliseconds, `Z`."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_now() -> str:
    return rfc3339(dt.datetime.now(dt.UTC))


def new_event_id() -> str:
    return secrets.token_urlsafe(16)


def new_event(fields: Mapping[str, Any]) -> EventRecord:
    """The event a create stores: the fields given, a generated id if none, version 1."""
    now = utc_now()
    event = {**fields, "createdAt": now, "updatedAt": now, "version": 1}
    if not event.get("eventId"):
        event["eventId"] = new_event_id()
    return {name: event[name] for name in PUBLIC_FIELDS}


def attribute(name: str, value: Any) -> AttributeValueTypeDef:
    return {"N": str(value)} if name in NUMBER_FIELDS else {"S": value}


def to_item(event: Mapping[str, Any], shards: int) -> dict[str, AttributeValueTypeDef]:
    item = {name: attribute(name, value) for name, value in event.items()}
    for name, value in index_keys(event["eventId"], event["status"], event["date"], shards).items():
        item[name] = {"S": value}
    return item


def from_item(item: Mapping[str, Any]) -> EventRecord:
    return {
        name: int(item[name]["N"]) if name in NUMBER_FIELDS else item[name]["S"]
        for name in PUBLIC_FIELDS
    }


def item_bytes(item: Mapping[str, Any]) -> int:
    """About what DynamoDB counts as an item's size: its names and values, in bytes."""
    return sum(
        len(name.encode()) + len(str(next(iter(value.values()))).encode())
        for name, value in item.items()
    )
