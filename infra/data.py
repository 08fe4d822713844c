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

from service.table import STATUS_INDEX, create_table_request

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


@dataclass(frozen=True)
class EventsTableArgs:
    # prod: deletion protection on, and the table survives `pulumi destroy`.
    protect: bool


class EventsTable(pulumi.ComponentResource):
    table: aws.dynamodb.Table
    index_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: EventsTableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("events-api:index:EventsTable", name, None, opts)
        # Pulumi names the table (name plus a random suffix); the request needs a name to
        # be complete, but only its shape is used here.
        definition = table_args(create_table_request(name))
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            **definition,
            server_side_encryption={"enabled": True},
            point_in_time_recovery={"enabled": True},
            deletion_protection_enabled=args.protect,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        self.index_arn = pulumi.Output.format("{0}/index/{1}", self.table.arn, STATUS_INDEX)
        self.register_outputs({"tableName": self.table.name, "indexArn": self.index_arn})
