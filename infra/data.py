"""The events table, translated from the service's own CreateTable request.

service/table.py is the single definition: the store, the local tooling and this program
all read it, so the deployed key schema and index cannot drift from what the code expects.
The translation refuses any part of the request it does not know, so a new table feature
on the service side fails here loudly instead of being left out of the deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from service.table import (
    KEY_EXPIRY_ATTRIBUTE,
    PARTITION_KEY,
    STATUS_INDEX,
    create_keys_table_request,
    create_table_request,
)

_TRANSLATED_KEYS = {
    "TableName",
    "BillingMode",
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
}


def _key(schema: list[dict[str, str]], key_type: str) -> str | None:
    names = [key["AttributeName"] for key in schema if key["KeyType"] == key_type]
    return names[0] if names else None


def _index(index: dict[str, Any]) -> dict[str, Any]:
    projection = index["Projection"]
    unknown = set(index) - {"IndexName", "KeySchema", "Projection"}
    unknown |= {f"Projection.{key}" for key in projection} - {
        "Projection.ProjectionType",
        "Projection.NonKeyAttributes",
    }
    if unknown:
        raise ValueError(f"index {index['IndexName']}: no translation for {sorted(unknown)}")
    translated: dict[str, Any] = {
        "name": index["IndexName"],
        "key_schemas": [
            {"attribute_name": key["AttributeName"], "key_type": key["KeyType"]}
            for key in index["KeySchema"]
        ],
        "projection_type": projection["ProjectionType"],
    }
    if "NonKeyAttributes" in projection:
        translated["non_key_attributes"] = list(projection["NonKeyAttributes"])
    return translated


def table_args(request: dict[str, Any]) -> dict[str, Any]:
    """pulumi_aws.dynamodb.Table keyword arguments for a DynamoDB CreateTable request."""
    unknown = set(request) - _TRANSLATED_KEYS
    if unknown:
        raise ValueError(f"no translation for CreateTable keys {sorted(unknown)}")
    return {
        "billing_mode": request["BillingMode"],
        "hash_key": _key(request["KeySchema"], "HASH"),
        "range_key": _key(request["KeySchema"], "RANGE"),
        "attributes": [
            {"name": attribute["AttributeName"], "type": attribute["AttributeType"]}
            for attribute in request["AttributeDefinitions"]
        ],
        "global_secondary_indexes": [
            _index(index) for index in request.get("GlobalSecondaryIndexes", [])
        ],
    }


def check_existing_table(table: aws.dynamodb.GetTableResult) -> str:
    """The ARN of a table the stack is told to use, once its keys are known to fit the code."""
    indexes = {index.name: index for index in table.global_secondary_indexes}
    expected = create_table_request(table.name)["GlobalSecondaryIndexes"][0]["KeySchema"]
    index = indexes.get(STATUS_INDEX)
    keys = [(key.attribute_name, key.key_type) for key in index.key_schemas] if index else []
    if table.hash_key != PARTITION_KEY or keys != [
        (key["AttributeName"], key["KeyType"]) for key in expected
    ]:
        raise pulumi.RunError(
            f"existingTableName {table.name!r} is not an events table: it needs the key "
            f"{PARTITION_KEY!r} and the index {STATUS_INDEX!r} of service/table.py"
        )
    return table.arn


@dataclass(frozen=True)
class EventsTableArgs:
    # prod: deletion protection on, and the table survives `pulumi destroy`.
    protect: bool
    # A table restored from a backup, served instead of one the stack creates.
    existing_table_name: str | None = None


class EventsTable(pulumi.ComponentResource):
    table: aws.dynamodb.Table | None  # None when the stack serves an existing table
    name: pulumi.Output[str]
    arn: pulumi.Output[str]
    index_arn: pulumi.Output[str]
    keys_table: aws.dynamodb.Table  # Idempotency-Key records, always the stack's own

    def __init__(
        self, name: str, args: EventsTableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("events-api:index:EventsTable", name, None, opts)
        if args.existing_table_name:
            self.table = None
            existing = aws.dynamodb.get_table_output(name=args.existing_table_name)
            self.name = existing.name
            self.arn = existing.apply(check_existing_table)
        else:
            self.table = self._create(name, args.protect)
            self.name, self.arn = self.table.name, self.table.arn
        self.index_arn = pulumi.Output.format("{0}/index/{1}", self.arn, STATUS_INDEX)
        self.keys_table = self._create_keys(name)
        self.register_outputs(
            {
                "tableName": self.name,
                "indexArn": self.index_arn,
                "keysTableName": self.keys_table.name,
            }
        )

    def _create(self, name: str, protect: bool) -> aws.dynamodb.Table:
        # Pulumi names the table (name plus a random suffix); the request needs a name to
        # be complete, but only its shape is used here.
        definition = table_args(create_table_request(name))
        return aws.dynamodb.Table(
            f"{name}-table",
            **definition,
            server_side_encryption={"enabled": True},
            point_in_time_recovery={"enabled": True},
            deletion_protection_enabled=protect,
            opts=pulumi.ResourceOptions(parent=self, protect=protect, retain_on_delete=protect),
        )

    def _create_keys(self, name: str) -> aws.dynamodb.Table:
        # Records only answer retries for a day: no point-in-time recovery, no protection
        # (a restore starts a fresh one). DynamoDB deletes expired records through TTL,
        # at no cost; the service ignores those past their time before that happens.
        return aws.dynamodb.Table(
            f"{name}-keys",
            **table_args(create_keys_table_request(name)),
            ttl={"attribute_name": KEY_EXPIRY_ATTRIBUTE, "enabled": True},
            server_side_encryption={"enabled": True},
            opts=pulumi.ResourceOptions(parent=self),
        )
