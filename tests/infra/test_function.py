"""The function: sized and configured from the stack, wired to its table and log group."""

from __future__ import annotations

from infra.config import parse_config
from tests.infra.conftest import PROJECT, Deployment, deploy
from tests.infra.mocks import is_secret
from tests.infra.test_config import short_settings

FUNCTION = "aws:lambda/function:Function"


def test_size_and_limits_come_from_the_stack_settings(stack: Deployment) -> None:
    config = parse_config(PROJECT, stack.stack, short_settings(stack.stack))
    function = stack.one(FUNCTION).inputs

    assert function["packageType"] == "Image"
    assert function["memorySize"] == config.memory_size
    assert function["timeout"] == config.timeout
    expected_reserved = -1 if config.reserved_concurrency is None else config.reserved_concurrency
    assert function["reservedConcurrentExecutions"] == expected_reserved
    (role,) = [
        role for role in stack.all("aws:iam/role:Role") if role.state["arn"] == function["role"]
    ]
    assert "lambda.amazonaws.com" in role.inputs["assumeRolePolicy"]


def test_the_environment_is_what_the_service_reads(stack: Deployment) -> None:
    config = parse_config(PROJECT, stack.stack, short_settings(stack.stack))
    variables = stack.one(FUNCTION).inputs["environment"]["variables"]

    assert variables["EVENTS_TABLE_NAME"] == stack.one("aws:dynamodb/table:Table").state["name"]
    assert variables["EVENTS_STATUS_SHARDS"] == str(config.status_shards)
    assert variables["EVENTS_CORS_ORIGINS"] == ",".join(config.cors_origins)
    assert variables["LOG_LEVEL"] == config.log_level
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
