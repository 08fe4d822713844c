"""API Gateway: proxy and docs routes, redeployment, stage, throttling, logs, key, invoke
permission."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from infra.api import API_ROUTES, DOCS_ROUTES, deployment_trigger, route_definitions
from local.lambda_context import LocalContext
from local.lambda_events import LambdaResponse, rest_api_event
from service.app import create_app
from service.handler import build_handler
from service.settings import Settings
from tests.infra.conftest import Deployment, deploy
from tests.infra.mocks import REGION, Registered, is_secret, reveal

METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
STAGE = "aws:apigateway/stage:Stage"
REST_API = "aws:apigateway/restApi:RestApi"
RESOURCE = "aws:apigateway/resource:Resource"
ALIAS = "aws:lambda/alias:Alias"


def served_routes(stack: Deployment) -> dict[tuple[str, str], Registered]:
    """Each method, keyed by its resource's full path and its HTTP method."""
    root = stack.one(REST_API).state["rootResourceId"]
    resources = {resource.id: resource.inputs for resource in stack.all(RESOURCE)}

    def path(resource_id: str) -> str:
        if resource_id == root:
            return "/"
        resource = resources[resource_id]
        return f"{path(resource['parentId']).rstrip('/')}/{resource['pathPart']}"

    return {
        (path(method.inputs["resourceId"]), method.inputs["httpMethod"]): method
        for method in stack.all(METHOD)
    }


def test_every_route_goes_to_the_live_alias(stack: Deployment) -> None:
    api = stack.one(REST_API)
    invoke_arn = stack.one(ALIAS).state["invokeArn"]
    routes = served_routes(stack)

    assert invoke_arn.endswith(":live/invocations")
    assert api.inputs["endpointConfiguration"] == {"types": "REGIONAL"}
    assert set(routes) == {
        ("/", "ANY"),
        ("/{proxy+}", "ANY"),
        ("/", "OPTIONS"),
        ("/{proxy+}", "OPTIONS"),
        ("/docs", "GET"),
        ("/docs/{proxy+}", "GET"),
        ("/redoc", "GET"),
        ("/openapi.json", "GET"),
    }
    assert len(stack.all(METHOD)) == len(routes)
    for method in routes.values():
        assert method.inputs["authorization"] == "NONE"
    integrations = stack.all(INTEGRATION)
    assert {(i.inputs["resourceId"], i.inputs["httpMethod"]) for i in integrations} == {
        (m.inputs["resourceId"], m.inputs["httpMethod"]) for m in routes.values()
    }
    assert len(integrations) == len(routes)
    for integration in integrations:
        assert integration.inputs["type"] == "AWS_PROXY"
        assert integration.inputs["integrationHttpMethod"] == "POST"
        assert integration.inputs["uri"] == invoke_arn


def test_prod_requires_an_api_key_except_for_the_docs_and_preflights_and_dev_requires_none(
    dev: Deployment, prod: Deployment
) -> None:
    keyless = {(path, "GET") for path in DOCS_ROUTES} | {("/", "OPTIONS"), ("/{proxy+}", "OPTIONS")}
    prod_routes = served_routes(prod)

    assert {route for route, m in prod_routes.items() if not m.inputs["apiKeyRequired"]} == keyless
    assert {route for route, m in prod_routes.items() if m.inputs["apiKeyRequired"]} == {
        ("/", "ANY"),
        ("/{proxy+}", "ANY"),
    }
    assert {m.inputs["apiKeyRequired"] for m in dev.all(METHOD)} == {False}


def docs_route(path: str) -> str | None:
    """The docs route API Gateway matches `path` to; None: /{proxy+} takes it, key and all."""
    for route in DOCS_ROUTES:
        prefix = route.removesuffix("{proxy+}")
        if path == route or (prefix != route and path.startswith(prefix) and path != prefix):
            return route
    return None


def test_everything_the_docs_pages_load_is_on_a_docs_route() -> None:
    # The service's own pages, as a browser gets them: every URL they load must reach the
    # function without a key, or the page breaks in prod.
    client = TestClient(create_app(Settings()))
    loaded = {"/docs", "/redoc"}
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200
        loaded |= set(
            re.findall(r'(?:src|href|data-openapi-url|spec-url)="(/[^"]*)"', response.text)
        )

    assert {path: docs_route(path) for path in loaded if docs_route(path) is None} == {}
    assert {docs_route(path) for path in loaded} == set(DOCS_ROUTES)
    assert docs_route("/events") is None
    assert docs_route("/docs/") is None  # a trailing slash is /docs's, not {proxy+}'s


def test_the_deployment_is_replaced_when_the_api_changes(dev: Deployment, prod: Deployment) -> None:
    def trigger(deployment: Deployment) -> str:
        return str(
            deployment.one("aws:apigateway/deployment:Deployment").inputs["triggers"][
                "redeployment"
            ]
        )

    for deployment, key_required in ((dev, False), (prod, True)):
        invoke_arn = deployment.one(ALIAS).state["invokeArn"]
        assert trigger(deployment) == deployment_trigger(
            route_definitions(key_required), invoke_arn
        )
        # The deployment is created after every method and integration it serves.
        dependencies = deployment.one("aws:apigateway/deployment:Deployment").options[
            "dependencies"
        ]
        routes = len(route_definitions(key_required))
        assert sum("Method" in urn or "Integration" in urn for urn in dependencies) == 2 * routes

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
    assert permission["qualifier"] == "live"  # the alias, not $LATEST or a version
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
    assert outputs["tableName"] == stack.one("aws:dynamodb/table:Table", "-table").state["name"]
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


def test_prods_stage_waits_for_the_account_logging_role_it_owns(prod: Deployment) -> None:
    dependencies = prod.one(STAGE).options["dependencies"]

    assert any("apigateway/account:Account" in urn for urn in dependencies)


def test_dev_leaves_the_account_role_to_prod_and_still_serves(dev: Deployment) -> None:
    assert dev.all("aws:apigateway/account:Account") == []
    assert len(dev.all(STAGE)) == 1
    assert not any("Account" in urn for urn in dev.one(STAGE).options["dependencies"])


def test_dev_alone_in_an_account_can_own_the_role() -> None:
    deployment = deploy("dev", {"manageApiGatewayAccount": "true"})

    assert len(deployment.all("aws:apigateway/account:Account")) == 1


def test_a_browser_preflight_needs_no_key_in_prod_and_the_function_answers_it() -> None:
    # prod with an allowed origin: every method needs the key, but a CORS preflight never
    # carries it, so OPTIONS must reach the function without one.
    origin = "https://app.example.com"
    deployment = deploy("prod", {"corsOrigins": json.dumps([origin])})
    routes = served_routes(deployment)
    alias_invoke_arn = deployment.one(ALIAS).state["invokeArn"]

    for path in API_ROUTES:
        preflight = routes[(path, "OPTIONS")].inputs
        assert preflight["apiKeyRequired"] is False
        assert routes[(path, "ANY")].inputs["apiKeyRequired"] is True
        (integration,) = [
            i.inputs
            for i in deployment.all(INTEGRATION)
            if (i.inputs["resourceId"], i.inputs["httpMethod"])
            == (preflight["resourceId"], "OPTIONS")
        ]
        assert (integration["type"], integration["uri"]) == ("AWS_PROXY", alias_invoke_arn)

    # The function, configured as the stack configures it, answers the preflight.
    variables = deployment.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    handler = build_handler(create_app(Settings.model_validate(variables)))
    event = rest_api_event(
        "OPTIONS",
        "/events",
        stage="prod",
        headers=[
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type,x-api-key"),
        ],
    )
    answer = LambdaResponse(handler(event, LocalContext()))
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == origin
    assert "POST" in answer.headers["access-control-allow-methods"]
