"""Alarms watch the function, the API and the table, and notify one topic."""

from __future__ import annotations

from typing import Any

import pytest

from infra.function import DYNAMODB_OPERATIONS
from infra.setting_types import ConfigError
from tests.infra.conftest import Deployment, deploy
from tests.infra.test_iam import dynamodb_actions_called

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def alarms_by_metric(deployment: Deployment) -> dict[str, dict[str, Any]]:
    alarms = {}
    for alarm in deployment.all(ALARM):
        inputs = alarm.inputs
        key = inputs.get("metricName") or "ThrottledRequests"
        alarms[f"{inputs.get('namespace', 'AWS/DynamoDB')}/{key}"] = inputs
    return alarms


def test_the_five_alarms_watch_this_stacks_resources(stack: Deployment) -> None:
    alarms = alarms_by_metric(stack)
    function = {"FunctionName": stack.outputs["functionName"]}
    api_name = stack.one("aws:apigateway/restApi:RestApi").state["name"]

    assert len(stack.all(ALARM)) == len(alarms)  # no second alarm on the same metric
    assert set(alarms) == {
        "AWS/Lambda/Errors",
        "AWS/Lambda/Throttles",
        "AWS/Lambda/Duration",
        "AWS/ApiGateway/5XXError",
        "AWS/DynamoDB/ThrottledRequests",
    }
    assert alarms["AWS/Lambda/Errors"]["dimensions"] == function
    assert alarms["AWS/Lambda/Throttles"]["dimensions"] == function
    assert alarms["AWS/Lambda/Duration"]["dimensions"] == function
    assert alarms["AWS/ApiGateway/5XXError"]["dimensions"] == {
        "ApiName": api_name,
        "Stage": stack.stack,
    }


def test_duration_alarm_is_p99_against_the_timeout(stack: Deployment) -> None:
    duration = alarms_by_metric(stack)["AWS/Lambda/Duration"]
    timeout = stack.one("aws:lambda/function:Function").inputs["timeout"]

    assert duration["extendedStatistic"] == "p99"
    assert "statistic" not in duration
    assert duration["threshold"] == timeout * 1000 * 0.8


def test_dynamodb_throttling_covers_every_operation_the_service_calls(
    stack: Deployment,
) -> None:
    alarm = alarms_by_metric(stack)["AWS/DynamoDB/ThrottledRequests"]
    table = stack.outputs["tableName"]
    metrics = [query["metric"] for query in alarm["metricQueries"] if "metric" in query]
    # What the deployed code calls, read from its source, not the program's own list.
    called = {action.removeprefix("dynamodb:") for action in dynamodb_actions_called()}

    assert {metric["dimensions"]["Operation"] for metric in metrics} == called
    assert called == set(DYNAMODB_OPERATIONS)
    assert {metric["dimensions"]["TableName"] for metric in metrics} == {table}
    assert {metric["metricName"] for metric in metrics} == {"ThrottledRequests"}
    (total,) = [query for query in alarm["metricQueries"] if query.get("returnData")]
    assert total["expression"] == "SUM(METRICS())"


def test_every_alarm_notifies_the_topic(stack: Deployment) -> None:
    topic = stack.one("aws:sns/topic:Topic").state["arn"]

    for alarm in stack.all(ALARM):
        assert alarm.inputs["alarmActions"] == [topic]
        assert alarm.inputs["okActions"] == [topic]
        assert alarm.inputs["treatMissingData"] == "notBreaching"
    assert stack.outputs["alarmTopicArn"] == topic


def test_an_email_subscription_only_when_configured(dev: Deployment) -> None:
    assert dev.all("aws:sns/topicSubscription:TopicSubscription") == []

    deployment = deploy("dev", {"alarmEmail": "oncall@example.com", "silentAlarms": "false"})

    subscription = deployment.one("aws:sns/topicSubscription:TopicSubscription").inputs
    assert subscription["protocol"] == "email"
    assert subscription["endpoint"] == "oncall@example.com"
    assert subscription["topic"] == deployment.one("aws:sns/topic:Topic").state["arn"]


def test_prod_subscribes_the_oncall_address_it_is_given(prod: Deployment) -> None:
    subscription = prod.one("aws:sns/topicSubscription:TopicSubscription").inputs

    assert subscription["endpoint"] == "oncall@example.com"


def test_prod_refuses_to_deploy_alarms_that_notify_nobody() -> None:
    # The stack file as shipped: no e-mail, no topic, no opt-out.
    with pytest.raises(ConfigError, match=r"^events-api:alarmEmail or events-api:alarmTopicArn"):
        deploy("prod", {"alarmEmail": ""})


def test_an_existing_topic_replaces_the_stacks_own() -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:oncall"

    deployment = deploy("prod", {"alarmEmail": "", "alarmTopicArn": topic})

    assert deployment.all("aws:sns/topic:Topic") == []
    assert deployment.all("aws:sns/topicSubscription:TopicSubscription") == []
    for alarm in deployment.all(ALARM):
        assert alarm.inputs["alarmActions"] == alarm.inputs["okActions"] == [topic]
    assert deployment.outputs["alarmTopicArn"] == topic


def test_prod_may_opt_out_explicitly() -> None:
    deployment = deploy("prod", {"alarmEmail": "", "silentAlarms": "true"})

    assert len(deployment.all(ALARM)) == 5
    assert deployment.all("aws:sns/topicSubscription:TopicSubscription") == []
