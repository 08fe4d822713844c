"""Entry point of `pulumi up`: read the stack's settings once, build each component, export.

Pulumi runs this file with infra/ as the working directory and on sys.path; the
repository root goes first on sys.path so `infra` and `service` import as packages.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import pulumi  # noqa: E402

from infra.alarms import Alarms, AlarmsArgs  # noqa: E402
from infra.api import EventsApi, EventsApiArgs  # noqa: E402
from infra.config import load_config  # noqa: E402
from infra.data import EventsTable, EventsTableArgs  # noqa: E402
from infra.function import EventsFunction, EventsFunctionArgs  # noqa: E402
from infra.image import ServiceImage, ServiceImageArgs  # noqa: E402
from infra.waf import WebFirewall, WebFirewallArgs  # noqa: E402

config = load_config()
name = f"events-{config.stack}"

data = EventsTable(
    name,
    EventsTableArgs(protect=config.protect_data, existing_table_name=config.existing_table_name),
)
image = ServiceImage(
    name,
    ServiceImageArgs(
        context=REPO_ROOT,
        dockerfile=REPO_ROOT / "Dockerfile",
        platform=config.platform,
        keep_images=config.ecr_keep_images,
        force_delete=not config.protect_data,
        # The Dockerfile's own name for the architecture of the function stage.
        build_args={"LAMBDA_ARCH": config.architecture},
        pinned_image_uri=config.image_uri,
    ),
)
function = EventsFunction(
    name,
    EventsFunctionArgs(
        image_uri=image.image_uri,
        architecture=config.architecture,
        memory_size=config.memory_size,
        timeout=config.timeout,
        reserved_concurrency=config.reserved_concurrency,
        table_name=data.name,
        table_arn=data.arn,
        index_arn=data.index_arn,
        status_shards=config.status_shards,
        status_shards_read=config.status_shards_to_read,
        log_level=config.log_level,
        log_retention_days=config.log_retention_days,
        cors_origins=config.cors_origins,
        tracing=config.tracing,
        api_key_required=config.require_api_key,
        keys_table_name=data.keys_table.name,
        keys_table_arn=data.keys_table.arn,
    ),
)
api = EventsApi(
    name,
    EventsApiArgs(
        stage_name=config.stack,
        function_name=function.function.name,
        function_invoke_arn=function.function.invoke_arn,
        throttle=config.stage_throttle,
        log_retention_days=config.log_retention_days,
        tracing=config.tracing,
        usage_plan=config.usage_plan,
        manage_api_gateway_account=config.manage_api_gateway_account,
    ),
)
alarms = Alarms(
    name,
    AlarmsArgs(
        function_name=function.function.name,
        function_timeout=config.timeout,
        api_name=api.rest_api.name,
        stage_name=config.stack,
        table_name=data.name,
        email=config.alarm_email,
    ),
)
firewall = (
    WebFirewall(name, WebFirewallArgs(stage_arn=api.stage.arn, rate_limit=config.waf_rate_limit))
    if config.enable_waf
    else None
)

pulumi.export("apiUrl", api.url)
pulumi.export("docsUrl", pulumi.Output.format("{0}/docs", api.url))
pulumi.export("tableName", data.name)
pulumi.export("functionName", function.function.name)
pulumi.export("imageUri", image.image_uri)
pulumi.export("logGroupName", function.log_group.name)
pulumi.export("accessLogGroupName", api.access_logs.name)
pulumi.export("alarmTopicArn", alarms.topic.arn)
if api.api_key is not None:
    pulumi.export("apiKey", pulumi.Output.secret(api.api_key.value))
if firewall is not None:
    pulumi.export("webAclArn", firewall.web_acl.arn)
