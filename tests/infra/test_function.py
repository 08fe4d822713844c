"""The function: sized and configured from the stack, wired to its table and log group."""

from __future__ import annotations

import pytest

from infra.config import parse_config
from infra.limits import INTEGRATION_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS
from service.settings import Settings
from tests.infra.conftest import PROJECT, Deployment, deploy, deployed_settings
from tests.infra.mocks import is_secret

FUNCTION = "aws:lambda/function:Function"


def test_size_and_limits_come_from_the_stack_settings(stack: Deployment) -> None:
    config = parse_config(PROJECT, stack.stack, deployed_settings(stack.stack)).function
    function = stack.one(FUNCTION).inputs

    assert function["packageType"] == "Image"
    assert function["memorySize"] == config.memory_size
    assert function["timeout"] == config.timeout
    assert function["reservedConcurrentExecutions"] == config.reserved_concurrency
    (role,) = [
        role for role in stack.all("aws:iam/role:Role") if role.state["arn"] == function["role"]
    ]
    assert "lambda.amazonaws.com" in role.inputs["assumeRolePolicy"]


TABLE = "aws:dynamodb/table:Table"


def test_the_environment_is_what_the_service_reads(stack: Deployment) -> None:
    config = parse_config(PROJECT, stack.stack, deployed_settings(stack.stack))
    variables = stack.one(FUNCTION).inputs["environment"]["variables"]

    assert variables["EVENTS_TABLE_NAME"] == stack.one(TABLE, "-table").state["name"]
    assert variables["EVENTS_STATUS_SHARDS"] == str(config.function.status_shards)
    assert variables["EVENTS_STATUS_SHARDS_READ"] == str(config.function.status_shards_to_read)
    # prod's document declares the key its API Gateway requires (Swagger UI's Authorize).
    assert variables["EVENTS_API_KEY_REQUIRED"] == ("true" if stack.stack == "prod" else "false")
    assert Settings.model_validate(variables).api_key_required is config.api.require_api_key
    assert variables["EVENTS_CORS_ORIGINS"] == ",".join(config.function.cors_origins)
    assert variables["LOG_LEVEL"] == config.function.log_level
    password = stack.one("random:index/randomPassword:RandomPassword")
    assert variables["EVENTS_CURSOR_SECRET"] == password.state["result"]
    assert len(variables["EVENTS_CURSOR_SECRET"]) >= 16  # service/settings.py's minimum


def test_the_cursor_secret_is_a_secret_and_differs_per_stack(
    dev: Deployment, prod: Deployment
) -> None:
    for deployment in (dev, prod):
        assert is_secret(deployment.one(FUNCTION).raw_inputs["environment"])

    def secret(deployment: Deployment) -> str:
        return str(
            deployment.one(FUNCTION).inputs["environment"]["variables"]["EVENTS_CURSOR_SECRET"]
        )

    assert secret(dev) != secret(prod)


@pytest.mark.parametrize(
    ("settings", "written", "read"),
    [
        ({}, 4, 4),
        ({"statusShards": "16", "statusShardsRead": "16"}, 16, 16),  # 4 -> 16, step 1
        ({"statusShards": "4", "statusShardsRead": "16"}, 4, 16),  # 16 -> 4, step 1
        ({"statusShards": "16", "statusShardsRead": "0"}, 16, 16),  # after the switch
    ],
    ids=["as-listed", "growing", "shrinking", "switched"],
)
def test_the_service_writes_and_reads_the_shards_the_stack_sets(
    settings: dict[str, str], written: int, read: int
) -> None:
    deployment = deploy("prod", settings)

    variables = deployment.one(FUNCTION).inputs["environment"]["variables"]
    service = Settings.model_validate(variables)
    assert (service.status_shards, service.status_shards_to_read) == (written, read)


def test_the_function_gives_up_before_api_gateway_does(stack: Deployment) -> None:
    timeout = stack.one(FUNCTION).inputs["timeout"]
    integrations = stack.all("aws:apigateway/integration:Integration")

    assert timeout == 25
    assert integrations
    for integration in integrations:
        assert integration.inputs["timeoutMilliseconds"] == INTEGRATION_TIMEOUT_SECONDS * 1000
        assert timeout < INTEGRATION_TIMEOUT_SECONDS


@pytest.mark.parametrize("timeout", [MIN_TIMEOUT_SECONDS, 25, INTEGRATION_TIMEOUT_SECONDS - 1])
def test_the_service_answers_before_the_function_times_out(timeout: int) -> None:
    deployment = deploy("dev", {"timeout": str(timeout)})
    variables = deployment.one(FUNCTION).inputs["environment"]["variables"]
    service = Settings.model_validate(variables)

    assert service.dynamodb_request_budget >= 1
    assert service.request_time_limit <= timeout - 1


def test_cors_origins_reach_the_function_comma_separated() -> None:
    origins = '["https://app.example.com", "https://admin.example.com"]'
    deployment = deploy("dev", {"corsOrigins": origins})

    variables = deployment.one(FUNCTION).inputs["environment"]["variables"]
    assert variables["EVENTS_CORS_ORIGINS"] == "https://app.example.com,https://admin.example.com"


def test_logs_go_to_an_explicit_group_with_the_stack_retention(
    dev: Deployment, prod: Deployment
) -> None:
    for deployment, retention in ((dev, 7), (prod, 90)):
        logging = deployment.one(FUNCTION).inputs["loggingConfig"]
        group = next(
            group
            for group in deployment.all("aws:cloudwatch/logGroup:LogGroup")
            if group.state["name"] == logging["logGroup"]
        )
        assert logging["logFormat"] == "Text"  # the service writes JSON lines itself
        assert group.inputs["retentionInDays"] == retention
        assert deployment.outputs["logGroupName"] == group.state["name"]


def test_the_function_waits_for_its_permissions(stack: Deployment) -> None:
    function = stack.one(FUNCTION)

    assert any("RolePolicy" in urn for urn in function.options["dependencies"])
