"""API Gateway: proxy routes, redeployment, stage, throttling, logs, key, invoke permission."""

from __future__ import annotations

import json
import re

from infra.api import deployment_trigger, route_definitions
from tests.infra.conftest import Deployment, deploy
from tests.infra.mocks import REGION, is_secret, reveal

METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
STAGE = "aws:apigateway/stage:Stage"
REST_API = "aws:apigateway/restApi:RestApi"


def test_any_method_on_root_and_proxy_goes_to_the_function(stack: Deployment) -> None:
    api = stack.one(REST_API)
    proxy = stack.one("aws:apigateway/resource:Resource")
    invoke_arn = stack.one("aws:lambda/function:Function").state["invokeArn"]

    assert api.inputs["endpointConfiguration"] == {"types": "REGIONAL"}
    assert proxy.inputs["pathPart"] == "{proxy+}"
    assert proxy.inputs["parentId"] == api.state["rootResourceId"]
    served = {method.inputs["resourceId"] for method in stack.all(METHOD)}
    assert served == {api.state["rootResourceId"], proxy.id}
    for method in stack.all(METHOD):
        assert method.inputs["httpMethod"] == "ANY"
        assert method.inputs["authorization"] == "NONE"
    integrations = stack.all(INTEGRATION)
    assert len(integrations) == 2
    for integration in integrations:
        assert integration.inputs["type"] == "AWS_PROXY"
        assert integration.inputs["integrationHttpMethod"] == "POST"
        assert integration.inputs["uri"] == invoke_arn
    assert {i.inputs["resourceId"] for i in integrations} == served


def test_prod_methods_require_an_api_key_and_dev_methods_do_not(
    dev: Deployment, prod: Deployment
) -> None:
    assert {m.inputs["apiKeyRequired"] for m in prod.all(METHOD)} == {True}
    assert {m.inputs["apiKeyRequired"] for m in dev.all(METHOD)} == {False}


def test_the_deployment_is_replaced_when_the_api_changes(dev: Deployment, prod: Deployment) -> None:
    def trigger(deployment: Deployment) -> str:
        return str(
            deployment.one("aws:apigateway/deployment:Deployment").inputs["triggers"][
                "redeployment"
            ]
        )

    for deployment, key_required in ((dev, False), (prod, True)):
        invoke_arn = deployment.one("aws:lambda/function:Function").state["invokeArn"]
        assert trigger(deployment) == deployment_trigger(
            route_definitions(key_required), invoke_arn
        )
        # The deployment is created after every method and integration it serves.
        dependencies = deployment.one("aws:apigateway/deployment:Deployment").options[
            "dependencies"
        ]
        assert sum("Method" in urn or "Integration" in urn for urn in dependencies) == 4

    arn = "arn:aws:lambda:us-east-1:123456789012:function:f"
    assert deployment_trigger(route_definitions(False), arn) != deployment_trigger(
        route_definitions(True), arn
    )
    assert deployment_trigger(route_definitions(False), arn) != deployment_trigger(
        route_definitions(False), f"{arn}2"
    )


def test_the_stage_is_named_after_the_stack_and_logs_json(stack: Deployment) -> None:
    stage = stack.one(STAGE)
    access_logs = stack.outputs["accessLogGroupName"]
    group = next(
        g for g in stack.all("aws:cloudwatch/logGroup:LogGroup") if g.state["name"] == access_logs
    )

    assert stage.inputs["stageName"] == stack.stack
    assert stage.inputs["deployment"] == stack.one("aws:apigateway/deployment:Deployment").id
    settings = stage.inputs["accessLogSettings"]
    assert settings["destinationArn"] == group.state["arn"]
    line = json.loads(settings["format"])
    assert line["requestId"] == "$context.requestId"
    assert line["status"] == "$context.status"
    assert stage.inputs["xrayTracingEnabled"] is (stack.stack == "prod")


def test_every_method_is_throttled_from_the_stack_settings(
    dev: Deployment, prod: Deployment
) -> None:
    for deployment, rate, burst in ((dev, 20, 40), (prod, 500, 1000)):
        settings = deployment.one("aws:apigateway/methodSettings:MethodSettings").inputs
        assert settings["stageName"] == deployment.stack
        assert settings["methodPath"] == "*/*"
        assert settings["settings"]["throttlingRateLimit"] == rate
        assert settings["settings"]["throttlingBurstLimit"] == burst
        assert settings["settings"]["metricsEnabled"] is True
        assert settings["settings"]["dataTraceEnabled"] is False


def test_only_this_api_stage_may_invoke_the_function(stack: Deployment) -> None:
    permission = stack.one("aws:lambda/permission:Permission").inputs
    api = stack.one(REST_API)

    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["function"] == stack.outputs["functionName"]
    assert permission["sourceArn"] == f"{api.state['executionArn']}/{stack.stack}/*/*"


def test_prod_has_a_usage_plan_and_a_secret_key(prod: Deployment) -> None:
    key = prod.one("aws:apigateway/apiKey:ApiKey")
    plan = prod.one("aws:apigateway/usagePlan:UsagePlan").inputs
    link = prod.one("aws:apigateway/usagePlanKey:UsagePlanKey").inputs

    assert plan["apiStages"] == [{"apiId": prod.one(REST_API).id, "stage": "prod"}]
    assert plan["quotaSettings"] == {"limit": 1_000_000, "period": "DAY"}
    assert plan["throttleSettings"] == {"rateLimit": 50, "burstLimit": 100}
    assert link == {
        "keyId": key.id,
        "keyType": "API_KEY",
        "usagePlanId": prod.one("aws:apigateway/usagePlan:UsagePlan").id,
    }
    assert prod.outputs["apiKey"] == key.state["value"]
    assert "apiKey" in prod.secret_outputs


def test_dev_has_no_key(dev: Deployment) -> None:
    assert dev.all("aws:apigateway/apiKey:ApiKey") == []
    assert dev.all("aws:apigateway/usagePlan:UsagePlan") == []
    assert "apiKey" not in dev.outputs


def test_outputs_are_ready_to_use(stack: Deployment) -> None:
    outputs = stack.outputs
    api_id = stack.one(STAGE).inputs["restApi"]

    assert outputs["apiUrl"] == f"https://{api_id}.execute-api.{REGION}.amazonaws.com/{stack.stack}"
    assert outputs["docsUrl"] == f"{outputs['apiUrl']}/docs"
    assert outputs["tableName"] == stack.one("aws:dynamodb/table:Table").state["name"]
    assert outputs["functionName"] == stack.one("aws:lambda/function:Function").state["name"]
    assert re.match(r"^/aws/lambda/", outputs["logGroupName"])
    for name in ("apiUrl", "docsUrl", "tableName", "functionName", "imageUri", "logGroupName"):
        assert outputs[name], name
        assert name not in stack.secret_outputs, name


def test_no_input_resolved_to_none(stack: Deployment) -> None:
    def nulls(value: object, path: str) -> list[str]:
        if value is None:
            return [path]
        if isinstance(value, dict):
            return [n for key, item in value.items() for n in nulls(item, f"{path}.{key}")]
        if isinstance(value, list):
            return [n for i, item in enumerate(value) for n in nulls(item, f"{path}[{i}]")]
        return []

    found = [n for r in stack.resources for n in nulls(reveal(r.raw_inputs), f"{r.type}:{r.name}")]
    assert found == []
    assert not any(is_secret(value) for value in stack.outputs.values())


def test_the_stage_waits_for_the_account_logging_role(stack: Deployment) -> None:
    dependencies = stack.one(STAGE).options["dependencies"]

    assert any("apigateway/account:Account" in urn for urn in dependencies)


def test_a_stack_without_the_account_role_still_serves() -> None:
    deployment = deploy("dev", {"manageApiGatewayAccount": "false"})

    assert len(deployment.all(STAGE)) == 1
    assert not any("Account" in urn for urn in deployment.one(STAGE).options["dependencies"])
