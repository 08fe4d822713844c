"""The Idempotency-Key records' table: the service's definition, with DynamoDB's TTL on
the records' expiry, and named to the function."""

from __future__ import annotations

from typing import Any

from service.settings import Settings
from service.table import KEY_EXPIRY_ATTRIBUTE, create_keys_table_request
from tests.conftest import temporary_keys_table
from tests.infra.conftest import Deployment
from tests.infra.test_table import TABLE, as_create_table_request


def test_the_keys_table_is_the_service_definition_with_ttl_on_the_expiry(
    stack: Deployment,
) -> None:
    table = stack.one(TABLE, "-keys")
    name = table.state["name"]

    assert as_create_table_request(table.inputs, name) == create_keys_table_request(name)
    assert table.inputs["ttl"] == {"attributeName": KEY_EXPIRY_ATTRIBUTE, "enabled": True}
    assert table.inputs["serverSideEncryption"] == {"enabled": True}


def test_the_function_is_told_the_keys_table(stack: Deployment) -> None:
    keys = stack.one(TABLE, "-keys").state["name"]
    variables = stack.one("aws:lambda/function:Function").inputs["environment"]["variables"]

    assert Settings(**variables).keys_table_name == keys


def test_local_tooling_creates_the_same_table_and_ttl(
    dev: Deployment, dynamodb: Any, table_name: str
) -> None:
    with temporary_keys_table(dynamodb, f"{table_name}-keys") as name:
        description = dynamodb.describe_table(TableName=name)["Table"]
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    deployed = dev.one(TABLE, "-keys").inputs

    assert [key["AttributeName"] for key in description["KeySchema"]] == [deployed["hashKey"]]
    assert ttl["AttributeName"] == deployed["ttl"]["attributeName"]
    assert ttl["TimeToLiveStatus"] in {"ENABLED", "ENABLING"}
