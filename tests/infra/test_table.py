"""The deployed table is the service's table: same keys, index, billing; protected in prod."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from infra.data import table_args
from service.table import create_table_request
from tests.infra.conftest import Deployment, deploy
from tests.infra.mocks import ACCOUNT, REGION

TABLE = "aws:dynamodb/table:Table"


def as_create_table_request(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    """The DynamoDB CreateTable request the Pulumi table inputs amount to."""
    key_schema = [{"AttributeName": inputs["hashKey"], "KeyType": "HASH"}]
    if inputs.get("rangeKey"):
        key_schema.append({"AttributeName": inputs["rangeKey"], "KeyType": "RANGE"})
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": inputs["billingMode"],
        "AttributeDefinitions": [
            {"AttributeName": attribute["name"], "AttributeType": attribute["type"]}
            for attribute in inputs["attributes"]
        ],
        "KeySchema": key_schema,
    }
    if inputs.get("globalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index["name"],
                "KeySchema": [
                    {"AttributeName": key["attributeName"], "KeyType": key["keyType"]}
                    for key in index["keySchemas"]
                ],
                "Projection": {"ProjectionType": index["projectionType"]}
                | (
                    {"NonKeyAttributes": index["nonKeyAttributes"]}
                    if index.get("nonKeyAttributes")
                    else {}
                ),
            }
            for index in inputs["globalSecondaryIndexes"]
        ]
    return request


def test_the_deployed_table_is_the_service_table_definition(stack: Deployment) -> None:
    table = stack.one(TABLE, "-table")
    name = table.state["name"]

    assert as_create_table_request(table.inputs, name) == create_table_request(name)


def test_the_deployed_table_matches_the_one_local_tooling_creates(
    dev: Deployment, dynamodb: Any, table_name: str
) -> None:
    # table_name is a table ensure_table (service/local) created on DynamoDB Local.
    described = dynamodb.describe_table(TableName=table_name)["Table"]
    deployed = as_create_table_request(dev.one(TABLE, "-table").inputs, table_name)

    assert described["KeySchema"] == deployed["KeySchema"]
    assert sorted(described["AttributeDefinitions"], key=str) == sorted(
        deployed["AttributeDefinitions"], key=str
    )
    assert described["BillingModeSummary"]["BillingMode"] == deployed["BillingMode"]
    assert [
        {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
        for index in described["GlobalSecondaryIndexes"]
    ] == deployed["GlobalSecondaryIndexes"]


def test_on_demand_encrypted_with_point_in_time_recovery(stack: Deployment) -> None:
    inputs = stack.one(TABLE, "-table").inputs

    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert inputs["serverSideEncryption"] == {"enabled": True}
    assert inputs["pointInTimeRecovery"] == {"enabled": True}


def test_prod_keeps_its_table_and_dev_can_drop_it(dev: Deployment, prod: Deployment) -> None:
    prod_table, dev_table = prod.one(TABLE, "-table"), dev.one(TABLE, "-table")

    assert prod_table.inputs["deletionProtectionEnabled"] is True
    assert prod_table.options["protect"] is True
    assert prod_table.options["retainOnDelete"] is True
    assert dev_table.inputs["deletionProtectionEnabled"] is False
    assert dev_table.options["protect"] is False
    assert dev_table.options["retainOnDelete"] is False


def test_the_translation_refuses_what_it_does_not_know() -> None:
    request = create_table_request("events")

    with pytest.raises(ValueError, match="LocalSecondaryIndexes"):
        table_args({**request, "LocalSecondaryIndexes": []})
    index = {**request["GlobalSecondaryIndexes"][0], "OnDemandThroughput": {}}
    with pytest.raises(ValueError, match="OnDemandThroughput"):
        table_args({**request, "GlobalSecondaryIndexes": [index]})


def test_a_range_key_and_included_attributes_translate() -> None:
    request = create_table_request("events")
    request["KeySchema"].append({"AttributeName": "dateEventId", "KeyType": "RANGE"})
    request["GlobalSecondaryIndexes"][0]["Projection"] = {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["title"],
    }

    translated = table_args(request)

    assert translated["range_key"] == "dateEventId"
    assert translated["global_secondary_indexes"][0]["non_key_attributes"] == ["title"]


def test_an_existing_table_replaces_the_stacks_own() -> None:
    deployment = deploy("prod", {"existingTableName": "events-restored"})
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/events-restored"

    # Only the idempotency-key table is the stack's own: records are not worth restoring.
    assert [table.name for table in deployment.all(TABLE)] == ["events-prod-keys"]
    assert deployment.outputs["tableName"] == "events-restored"
    variables = deployment.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    assert variables["EVENTS_TABLE_NAME"] == "events-restored"
    policy = deployment.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"]
    assert f'"{arn}"' in policy
    assert f'"{arn}/index/status-date-index"' in policy
    throttles = [
        alarm
        for alarm in deployment.all("aws:cloudwatch/metricAlarm:MetricAlarm")
        if "metricQueries" in alarm.inputs
    ]
    (alarm,) = throttles
    tables = {
        q["metric"]["dimensions"]["TableName"]
        for q in alarm.inputs["metricQueries"]
        if "metric" in q
    }
    assert tables == {"events-restored"}


def test_an_existing_table_of_another_shape_is_refused() -> None:
    with pytest.raises(pulumi.RunError, match="'wrong-table' is not an events table"):
        deploy("dev", {"existingTableName": "wrong-table"})


@pytest.mark.parametrize("name", ["wrong-key-table", "wrong-index-table"])
def test_a_restored_table_must_have_both_the_key_and_the_index(name: str) -> None:
    # Each on its own: a table right in one respect is still refused for the other.
    with pytest.raises(pulumi.RunError, match=f"'{name}' is not an events table"):
        deploy("dev", {"existingTableName": name})
