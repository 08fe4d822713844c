"""The events table in DynamoDB Local: created from the shared definition, found by the service."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local.dynamodb_local.engine import DynamoDBLocal
from local.dynamodb_local.errors import DynamoDBLocalError
from service.table import (
    KEY_EXPIRY_ATTRIBUTE,
    create_keys_table_request,
    create_table_request,
    keys_table_name,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from service.settings import Settings


@contextlib.contextmanager
def serving_database(
    settings: Settings, db_path: Path | None = None
) -> Iterator[tuple[DynamoDBLocal, bool]]:
    """DynamoDB Local with the events table and the idempotency-key table, its endpoint set
    in the environment the service reads: what `make run` and the in-process gateway stand
    on. Yields the engine and whether the events table was created just now."""
    with DynamoDBLocal(db_path) as local:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = local.endpoint_url
        yield local, ensure_tables(local.client(), settings.table_name, settings.keys_table_name)


def ensure_tables(client: DynamoDBClient, table_name: str, keys_table: str | None = None) -> bool:
    """The events table and its idempotency-key table (`keys_table`, by default the name
    the service derives), each created if missing: the pair the service stands on.
    Whether the events table was created just now."""
    created = ensure_table(client, table_name)
    ensure_keys_table(client, keys_table or keys_table_name(table_name))
    return created


def ensure_table(client: DynamoDBClient, table_name: str) -> bool:
    """Create the events table from the shared definition if it is missing."""
    if not _created(client, create_table_request(table_name)):
        return False
    client.get_waiter("table_exists").wait(
        TableName=table_name,
        WaiterConfig={"Delay": 0.2, "MaxAttempts": 100},  # type: ignore[typeddict-item]
    )
    return True


def ensure_keys_table(client: DynamoDBClient, table_name: str) -> bool:
    """Create the idempotency-key table if it is missing, with its TTL as AWS has it
    (DynamoDB Local accepts the setting but never deletes anything)."""
    if not _created(client, create_keys_table_request(table_name)):
        return False
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": KEY_EXPIRY_ATTRIBUTE},
    )
    return True


def _created(client: DynamoDBClient, request: Any) -> bool:
    """Send a CreateTable request; False when the table exists already."""
    try:
        client.create_table(**request)
    except client.exceptions.ResourceInUseException:
        return False
    return True


def create_configured_table(settings: Settings, wait_seconds: float) -> str:
    """Create the table the settings name, at their endpoint, waiting for it to answer."""
    from botocore.exceptions import BotoCoreError

    from service.store import create_dynamodb_client

    client = create_dynamodb_client(settings)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            created = ensure_tables(client, settings.table_name, settings.keys_table_name)
            break
        except BotoCoreError as error:  # not answering yet, as a container just started
            if time.monotonic() > deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB at {settings.dynamodb_endpoint_url or 'AWS'}: {error}"
                ) from None
            time.sleep(0.5)
    return f"Table {settings.table_name!r} {'created' if created else 'already exists'}."
