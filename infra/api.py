"""The REST API: API Gateway proxies every path and method to the function.

`ANY /` and `ANY /{proxy+}` hand each request to the function's `live` alias as it came
(Lambda proxy integration); FastAPI does the routing. The stage is named after the stack, throttles
every method, and writes one JSON access-log line per request. With an API key required,
a usage plan sets each key's quota and throttle, and the interactive docs stay open:
`GET` on their own paths needs no key, since a browser opening them sends none, and
neither does `OPTIONS` anywhere: a browser's CORS preflight never carries the key, and the
app answers it (its CORS middleware knows the allowed origins).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.function import assume_role_policy
from infra.limits import INTEGRATION_TIMEOUT_SECONDS
from infra.stack_settings import Throttle, UsagePlan

# Every path and method: the API itself.
API_ROUTES = ("/", "/{proxy+}")
# The docs pages, their assets and the document they load (service/docs.py), for GET
# only. API Gateway routes a request to the most specific resource, so these win over
# /{proxy+}; their own resources must exist, parents before children.
DOCS_ROUTES = ("/docs", "/docs/{proxy+}", "/redoc", "/openapi.json")
# One JSON object per request. $context.requestId is the id the function logs as the
# API Gateway request id, so an access line leads to the function's log lines.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "apiKeyId": "$context.identity.apiKeyId",
    "httpMethod": "$context.httpMethod",
    "path": "$context.path",
    "resourcePath": "$context.resourcePath",
    "protocol": "$context.protocol",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "integrationError": "$context.integration.error",
    "errorMessage": "$context.error.message",
    "wafStatus": "$context.waf.status",
}
CLOUDWATCH_LOGS_POLICY = "policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def route_definitions(api_key_required: bool) -> list[dict[str, Any]]:
    """The methods and integrations the API serves, one per route.

    API Gateway picks a resource's own method over its ANY, so OPTIONS, keyless, wins for
    preflights while every other method of the API still needs the key.
    """
    routes = [(path, "ANY", api_key_required) for path in API_ROUTES]
    routes += [(path, "OPTIONS", False) for path in API_ROUTES]
    routes += [(path, "GET", False) for path in DOCS_ROUTES]
    return [
        {
            "path": path,
            "httpMethod": http_method,
            "authorization": "NONE",
            "apiKeyRequired": key_required,
            "integrationType": "AWS_PROXY",
            # Lambda is always invoked with POST, whatever the client's method.
            "integrationHttpMethod": "POST",
            "timeoutMilliseconds": INTEGRATION_TIMEOUT_SECONDS * 1000,
        }
        for path, http_method, key_required in routes
    ]


def resource_name(path: str) -> str:
    """The name part of a route's resources: "/" is "root", "/docs/{proxy+}" "docs-proxy"."""
    parts = [part.strip("{+}").replace(".", "-") for part in path.split("/") if part]
    return "-".join(parts) or "root"


def deployment_trigger(definitions: list[dict[str, Any]], invoke_arn: str) -> str:
    """A hash of everything a deployment serves: a new value replaces the deployment."""
    served = {"routes": definitions, "invokeArn": invoke_arn}
    return hashlib.sha256(json.dumps(served, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class EventsApiArgs:
    stage_name: str
    function_name: pulumi.Input[str]
    alias_name: pulumi.Input[str]  # the alias API Gateway invokes
    alias_invoke_arn: pulumi.Input[str]
    throttle: Throttle  # every method of the stage, all clients together
    log_retention_days: int
    tracing: bool
    usage_plan: UsagePlan | None  # None: no API key required
    # The CloudWatch role is one setting per account and region, shared by every API.
    manage_api_gateway_account: bool


class EventsApi(pulumi.ComponentResource):
    rest_api: aws.apigateway.RestApi
    stage: aws.apigateway.Stage
    access_logs: aws.cloudwatch.LogGroup
    api_key: aws.apigateway.ApiKey | None
    url: pulumi.Output[str]

    def __init__(
        self, name: str, args: EventsApiArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("events-api:index:EventsApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.rest_api = aws.apigateway.RestApi(
            f"{name}-api",
            description="Events management API",
            endpoint_configuration={"types": "REGIONAL"},
            opts=child,
        )
        definitions = route_definitions(args.usage_plan is not None)
        routes = self._routes(name, definitions, args.alias_invoke_arn)
        redeployment = pulumi.Output.from_input(args.alias_invoke_arn).apply(
            lambda arn: deployment_trigger(definitions, arn)
        )
        deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=self.rest_api.id,
            triggers={"redeployment": redeployment},
            opts=pulumi.ResourceOptions(parent=self, depends_on=routes),
        )
        self.access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name_prefix=f"/aws/apigateway/{name}-",
            retention_in_days=args.log_retention_days,
            opts=child,
        )
        account = self._account(name) if args.manage_api_gateway_account else []
        self.stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=self.rest_api.id,
            deployment=deployment.id,
            stage_name=args.stage_name,
            xray_tracing_enabled=args.tracing,
            access_log_settings={
                "destination_arn": self.access_logs.arn,
                "format": json.dumps(ACCESS_LOG_FORMAT),
            },
            # Access logging needs the account's CloudWatch role in place first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=account),
        )
        aws.apigateway.MethodSettings(
            f"{name}-method-settings",
            rest_api=self.rest_api.id,
            stage_name=self.stage.stage_name,
            method_path="*/*",
            settings={
                "throttling_rate_limit": args.throttle.rate_limit,
                "throttling_burst_limit": args.throttle.burst_limit,
                "metrics_enabled": True,
                "logging_level": "ERROR",
                "data_trace_enabled": False,
            },
            opts=child,
        )
        aws.lambda_.Permission(
            f"{name}-invoke",
            action="lambda:InvokeFunction",
            function=args.function_name,
            # The alias, and only the alias, may be invoked by this API.
            qualifier=args.alias_name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.format(
                "{0}/{1}/*/*", self.rest_api.execution_arn, args.stage_name
            ),
            opts=child,
        )
        self.api_key = self._usage_plan(name, args.usage_plan) if args.usage_plan else None
        self.url = self.stage.invoke_url
        self.register_outputs({"apiUrl": self.url})

    def _routes(
        self, name: str, definitions: list[dict[str, Any]], invoke_arn: pulumi.Input[str]
    ) -> list[pulumi.Resource]:
        resource_ids: dict[str, pulumi.Input[str]] = {"/": self.rest_api.root_resource_id}
        for path in (route["path"] for route in definitions if route["path"] != "/"):
            parent, _, path_part = path.rpartition("/")
            if path in resource_ids:
                continue  # a path with two methods has one resource
            resource_ids[path] = aws.apigateway.Resource(
                f"{name}-{resource_name(path)}",
                rest_api=self.rest_api.id,
                parent_id=resource_ids[parent or "/"],
                path_part=path_part,
                opts=pulumi.ResourceOptions(parent=self),
            ).id
        created: list[pulumi.Resource] = []
        for route in definitions:
            path = route["path"]
            # ANY keeps the names it always had; another method on the same path adds its own.
            suffix = "" if route["httpMethod"] in ("ANY", "GET") else f"-{route['httpMethod']}"
            label = f"{name}-{resource_name(path)}{suffix.lower()}"
            method = aws.apigateway.Method(
                f"{label}-method",
                rest_api=self.rest_api.id,
                resource_id=resource_ids[path],
                http_method=route["httpMethod"],
                authorization=route["authorization"],
                api_key_required=route["apiKeyRequired"],
                opts=pulumi.ResourceOptions(parent=self),
            )
            integration = aws.apigateway.Integration(
                f"{label}-integration",
                rest_api=self.rest_api.id,
                resource_id=resource_ids[path],
                http_method=method.http_method,
                integration_http_method=route["integrationHttpMethod"],
                type=route["integrationType"],
                timeout_milliseconds=route["timeoutMilliseconds"],
                uri=invoke_arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
            created += [method, integration]
        return created

    def _account(self, name: str) -> list[pulumi.Resource]:
        partition = aws.get_partition_output().partition
        role = aws.iam.Role(
            f"{name}-cloudwatch-role",
            assume_role_policy=assume_role_policy("apigateway.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The account-wide role serves every API in the region, whichever log groups
        # they name, so it takes AWS's managed policy for exactly this purpose.
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cloudwatch-policy",
            role=role.name,
            policy_arn=pulumi.Output.format(
                "arn:{0}:iam::aws:{1}", partition, CLOUDWATCH_LOGS_POLICY
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        account = aws.apigateway.Account(
            f"{name}-account",
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
        return [account]

    def _usage_plan(self, name: str, usage_plan: UsagePlan) -> aws.apigateway.ApiKey:
        key = aws.apigateway.ApiKey(
            f"{name}-key", enabled=True, opts=pulumi.ResourceOptions(parent=self)
        )
        plan = aws.apigateway.UsagePlan(
            f"{name}-usage-plan",
            api_stages=[{"api_id": self.rest_api.id, "stage": self.stage.stage_name}],
            quota_settings={"limit": usage_plan.quota_limit, "period": usage_plan.quota_period},
            throttle_settings={
                "rate_limit": usage_plan.throttle.rate_limit,
                "burst_limit": usage_plan.throttle.burst_limit,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.apigateway.UsagePlanKey(
            f"{name}-usage-plan-key",
            key_id=key.id,
            key_type="API_KEY",
            usage_plan_id=plan.id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return key
